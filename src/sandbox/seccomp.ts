// A seccomp filter for plugins, generated here in pure TypeScript as classic BPF:
// the same bytes `seccomp_export_bpf` writes, ready for bubblewrap's `--seccomp FD`.
// It denies the syscalls a confined plugin has no business making (namespaces,
// mounts, tracing, keyrings, kernel modules, ...) and allows everything else.

// struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6]. Little-endian only
// (both supported arches), so an argument's low 32 bits sit at its own offset.
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const offsetArgLow = (i: number): number => 16 + 8 * i;

// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x05 | 0x10; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x05 | 0x30; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x05 | 0x40; // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const INSN_BYTES = 8;
const MAX_JUMP = 255;

// Return values (linux/seccomp.h) and the errnos we return.
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// x32 syscalls share AUDIT_ARCH_X86_64 and differ only by this bit in nr.
const X32_SYSCALL_BIT = 0x40000000;

// Every namespace flag of clone(2); all in the low 32 bits of the flags argument.
// CLONE_NEWTIME overlaps clone()'s exit-signal byte (the kernel honours it only via
// clone3/unshare), but no valid signal has bit 0x80 set, so masking it costs nothing.
const CLONE_NAMESPACE_FLAGS =
  0x00000080 | // CLONE_NEWTIME
  0x00020000 | // CLONE_NEWNS
  0x02000000 | // CLONE_NEWCGROUP
  0x04000000 | // CLONE_NEWUTS
  0x08000000 | // CLONE_NEWIPC
  0x10000000 | // CLONE_NEWUSER
  0x20000000 | // CLONE_NEWPID
  0x40000000; // CLONE_NEWNET

// Terminal ioctls that push input into (or drive the console of) a terminal the plugin shares.
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

interface ArchTable {
  auditArch: number;
  x32Bit: boolean;
  syscalls: Readonly<Record<string, number>>;
}

// Syscall numbers: x86_64 from arch/x86/entry/syscalls/syscall_64.tbl (asm/unistd_64.h),
// aarch64 from include/uapi/asm-generic/unistd.h. A syscall missing on an arch is not listed.
const ARCHES: Readonly<Record<string, ArchTable>> = {
  x64: {
    auditArch: 0xc000003e, // AUDIT_ARCH_X86_64
    x32Bit: true,
    syscalls: {
      ioctl: 16, clone: 56, ptrace: 101, vhangup: 153, pivot_root: 155, chroot: 161, acct: 163,
      settimeofday: 164, mount: 165, umount2: 166, swapon: 167, swapoff: 168, reboot: 169,
      iopl: 172, ioperm: 173, init_module: 175, delete_module: 176, quotactl: 179,
      lookup_dcookie: 212, clock_settime: 227, kexec_load: 246, add_key: 248, request_key: 249,
      keyctl: 250, unshare: 272, perf_event_open: 298, setns: 308, process_vm_readv: 310,
      process_vm_writev: 311, finit_module: 313, kexec_file_load: 320, bpf: 321, userfaultfd: 323,
      open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433,
      clone3: 435, mount_setattr: 442, quotactl_fd: 443,
    },
  },
  arm64: {
    auditArch: 0xc00000b7, // AUDIT_ARCH_AARCH64
    x32Bit: false,
    syscalls: {
      lookup_dcookie: 18, ioctl: 29, umount2: 39, mount: 40, pivot_root: 41, chroot: 51,
      vhangup: 58, quotactl: 60, acct: 89, unshare: 97, kexec_load: 104, init_module: 105,
      delete_module: 106, clock_settime: 112, ptrace: 117, reboot: 142, settimeofday: 170,
      add_key: 217, request_key: 218, keyctl: 219, clone: 220, swapon: 224, swapoff: 225,
      perf_event_open: 241, setns: 268, process_vm_readv: 270, process_vm_writev: 271,
      finit_module: 273, bpf: 280, userfaultfd: 282, kexec_file_load: 294, open_tree: 428,
      move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, clone3: 435,
      mount_setattr: 442, quotactl_fd: 443,
    },
  },
};

// Denied outright with EPERM. Deliberately absent: personality (harmless, some runtimes
// probe it) and adjtimex/clock_adjtime (modes=0 is a legitimate read-only clock query;
// changing the clock needs CAP_SYS_TIME, which the sandbox drops anyway).
export const SECCOMP_DENIED: readonly string[] = Object.freeze([
  // tracing and reading other processes' memory
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'perf_event_open',
  // kernel keyrings
  'keyctl', 'add_key', 'request_key',
  // namespaces and the mount table
  'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'chroot', 'open_tree', 'move_mount',
  'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr',
  // kernel attack surface: eBPF, userfaultfd (race widening), modules, kexec
  'bpf', 'userfaultfd', 'init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load',
  // host administration
  'swapon', 'swapoff', 'reboot', 'acct', 'quotactl', 'quotactl_fd', 'iopl', 'ioperm',
  'lookup_dcookie', 'settimeofday', 'clock_settime', 'vhangup',
]);

type Target = string | null; // a label, or null for "the next instruction"
interface Insn { code: number; k: number; jt: Target; jf: Target }

// A tiny assembler so jumps are written as labels and checked, not counted by hand.
class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  label(name: string): void {
    this.labels.set(name, this.insns.length);
  }

  load(offset: number): void {
    this.insns.push({ code: LD_W_ABS, k: offset, jt: null, jf: null });
  }

  jump(code: number, k: number, jt: Target, jf: Target): void {
    this.insns.push({ code, k, jt, jf });
  }

  ret(k: number): void {
    this.insns.push({ code: RET_K, k, jt: null, jf: null });
  }

  // cBPF jumps are forward-only and 8-bit; anything else is a bug in the program layout.
  private offset(from: number, target: Target): number {
    if (target === null) return 0;
    const at = this.labels.get(target);
    if (at === undefined) throw new Error(`seccomp: unknown label ${target}`);
    const distance = at - from - 1;
    if (distance < 0 || distance > MAX_JUMP) throw new Error(`seccomp: jump to ${target} out of range (${distance})`);
    return distance;
  }

  assemble(): Buffer {
    const out = Buffer.alloc(this.insns.length * INSN_BYTES);
    this.insns.forEach((insn, i) => {
      const at = i * INSN_BYTES;
      out.writeUInt16LE(insn.code, at);
      out.writeUInt8(this.offset(i, insn.jt), at + 2);
      out.writeUInt8(this.offset(i, insn.jf), at + 3);
      out.writeUInt32LE(insn.k >>> 0, at + 4);
    });
    return out;
  }
}

// The plugin filter for `arch` (a process.arch value), or null when we have no syscall table for it.
export function seccompProgram(arch: string = process.arch): Buffer | null {
  const table = ARCHES[arch];
  if (!table) return null;
  const nr = table.syscalls;
  const a = new Assembler();

  // A syscall from another ABI (e.g. int 0x80 i386 on x86_64) would be numbered differently: kill.
  a.load(OFFSET_ARCH);
  a.jump(JEQ_K, table.auditArch, null, 'kill');
  a.load(OFFSET_NR);
  // x32 numbers reach the same kernel code by other numbers, dodging every check below.
  // EPERM rather than kill: nothing legitimate here is an x32 binary, and a failing
  // call is consistent with the rest of the filter and lets a feature probe degrade.
  // (It also turns syscall(-1) into EPERM instead of ENOSYS; nothing relies on that.)
  if (table.x32Bit) a.jump(JGE_K, X32_SYSCALL_BIT, 'deny', null);
  for (const name of SECCOMP_DENIED) {
    const n = nr[name];
    if (n !== undefined) a.jump(JEQ_K, n, 'deny', null);
  }
  // clone is fork and threads, so only its namespace flags are refused.
  a.jump(JEQ_K, nr.clone!, null, 'not-clone');
  a.load(offsetArgLow(0));
  a.jump(JSET_K, CLONE_NAMESPACE_FLAGS, 'deny', 'allow');
  a.label('not-clone');
  // clone3 passes flags in memory BPF cannot read: ENOSYS makes glibc fall back to clone.
  a.jump(JEQ_K, nr.clone3!, 'enosys', null);
  a.jump(JEQ_K, nr.ioctl!, null, 'allow');
  // The kernel reads ioctl's request as unsigned int, so the low 32 bits are exactly what
  // it acts on: high garbage bits cannot sneak TIOCSTI past this (cf. CVE-2019-10063).
  a.load(offsetArgLow(1));
  a.jump(JEQ_K, TIOCSTI, 'deny', null);
  a.jump(JEQ_K, TIOCLINUX, 'deny', 'allow');
  a.label('allow');
  a.ret(RET_ALLOW);
  a.label('deny');
  a.ret(RET_ERRNO | EPERM);
  a.label('enosys');
  a.ret(RET_ERRNO | ENOSYS);
  a.label('kill');
  a.ret(RET_KILL_PROCESS);
  return a.assemble();
}

// One line for the daemon's start-up log.
export function describeSeccomp(arch: string = process.arch): string {
  const table = ARCHES[arch];
  if (!table) return `seccomp: unavailable (no syscall table for ${arch})`;
  const denied = SECCOMP_DENIED.filter((name) => table.syscalls[name] !== undefined);
  return `seccomp: ${arch}, ${denied.length} syscalls denied (EPERM), clone namespace flags and TIOCSTI/TIOCLINUX denied, clone3 -> ENOSYS`;
}
