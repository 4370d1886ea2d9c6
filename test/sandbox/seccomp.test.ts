import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SECCOMP_DENIED, describeSeccomp, seccompProgram } from '../../src/sandbox/seccomp.js';

// ---- an independent decoder and interpreter for the classic BPF the module emits ----

interface Insn { code: number; jt: number; jf: number; k: number }

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const KILL_PROCESS = 0x80000000;
const ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;
const RET_EPERM = 0x00050000 | EPERM;
const RET_ENOSYS = 0x00050000 | ENOSYS;
const AUDIT_ARCH: Record<string, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
const AUDIT_ARCH_I386 = 0x40000003;

const NAMESPACE_FLAGS: Record<string, number> = {
  CLONE_NEWTIME: 0x80, CLONE_NEWNS: 0x20000, CLONE_NEWCGROUP: 0x2000000, CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000, CLONE_NEWUSER: 0x10000000, CLONE_NEWPID: 0x20000000, CLONE_NEWNET: 0x40000000,
};
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const TCGETS = 0x5401;

// The test's own numbers for the syscalls it probes (checked against the headers below).
const NR: Record<string, Record<string, number>> = {
  x64: {
    read: 0, ioctl: 16, getpid: 39, clone: 56, ptrace: 101, personality: 135, mount: 165, add_key: 248,
    request_key: 249, keyctl: 250, unshare: 272, perf_event_open: 298, setns: 308, process_vm_readv: 310,
    bpf: 321, userfaultfd: 323, clone3: 435,
  },
  arm64: {
    ioctl: 29, mount: 40, read: 63, personality: 92, unshare: 97, ptrace: 117, getpid: 172, add_key: 217,
    request_key: 218, keyctl: 219, clone: 220, perf_event_open: 241, setns: 268, process_vm_readv: 270,
    bpf: 280, userfaultfd: 282, clone3: 435,
  },
};

const HEADERS: Record<string, string[]> = {
  x64: ['/usr/include/x86_64-linux-gnu/asm/unistd_64.h', '/usr/include/asm/unistd_64.h'],
  arm64: ['/usr/include/asm-generic/unistd.h'],
};

function decode(program: Buffer): Insn[] {
  const insns: Insn[] = [];
  for (let at = 0; at < program.length; at += 8) {
    insns.push({ code: program.readUInt16LE(at), jt: program[at + 2]!, jf: program[at + 3]!, k: program.readUInt32LE(at + 4) });
  }
  return insns;
}

/** Runs the filter on one struct seccomp_data the way the kernel would; throws on anything unexpected. */
function run(program: Insn[], arch: string, nr: number, args: bigint[] = [], auditArch = AUDIT_ARCH[arch]!): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(auditArch, 4);
  args.forEach((arg, i) => data.writeBigUInt64LE(arg, 16 + 8 * i));
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    if (code === LD_W_ABS) {
      if (k % 4 !== 0 || k >= 64) throw new Error(`bad load offset ${k}`);
      a = data.readUInt32LE(k);
    } else if (code === JEQ_K) pc += a === k ? jt : jf;
    else if (code === JGE_K) pc += a >= k ? jt : jf;
    else if (code === JSET_K) pc += (a & k) !== 0 ? jt : jf;
    else if (code === RET_K) return k;
    else throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
  }
  throw new Error('fell off the end of the program');
}

/** Every syscall number in [0, 1024) the filter answers EPERM with all-zero arguments: the deny list. */
function deniedNumbers(program: Insn[], arch: string): number[] {
  return Array.from({ length: 1024 }, (_, nr) => nr).filter((nr) => run(program, arch, nr) === RET_EPERM);
}

function headerTable(arch: string): Record<string, number> | null {
  const path = HEADERS[arch]!.find((p) => existsSync(p));
  if (!path) return null;
  const table: Record<string, number> = {};
  for (const m of readFileSync(path, 'utf8').matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) table[m[1]!] = Number(m[2]);
  return table;
}

describe.each(['x64', 'arm64'])('seccompProgram(%s), decoded', (arch) => {
  const program = decode(seccompProgram(arch)!);
  const nr = NR[arch]!;
  const sys = (name: string, args: bigint[] = []): number => run(program, arch, nr[name]!, args);

  it('is whole sock_filter records that start by checking the architecture', () => {
    expect(seccompProgram(arch)!.length % 8).toBe(0);
    expect(program[0]).toEqual({ code: LD_W_ABS, jt: 0, jf: 0, k: 4 });
    expect(program[1]).toMatchObject({ code: JEQ_K, k: AUDIT_ARCH[arch] });
    expect(run(program, arch, nr.read!, [], 0xdeadbeef)).toBe(KILL_PROCESS);
    expect(run(program, arch, nr.read!, [], AUDIT_ARCH_I386)).toBe(KILL_PROCESS);
    program.forEach((insn, i) => {
      if ((insn.code & 0x07) === 0x05) expect(i + 1 + Math.max(insn.jt, insn.jf)).toBeLessThan(program.length);
    });
  });

  it.skipIf(!headerTable(arch))(`denies exactly SECCOMP_DENIED, numbered as in the kernel headers (skipped when: no ${HEADERS[arch]![0]})`, () => {
    const headers = headerTable(arch)!;
    const expected = SECCOMP_DENIED.filter((name) => name in headers).map((name) => headers[name]!).sort((x, y) => x - y);
    expect(deniedNumbers(program, arch)).toEqual(expected);
    for (const [name, n] of Object.entries(nr)) expect(headers[name], name).toBe(n);
    if (arch === 'arm64') expect(SECCOMP_DENIED.filter((name) => !(name in headers))).toEqual(['iopl', 'ioperm']);
    else expect(SECCOMP_DENIED.filter((name) => !(name in headers))).toEqual([]);
  });

  it('answers clone by its namespace flags, clone3 with ENOSYS and ioctl by its request', () => {
    for (const [flag, bit] of Object.entries(NAMESPACE_FLAGS)) expect(sys('clone', [BigInt(bit | 17)]), flag).toBe(RET_EPERM);
    expect(sys('clone', [0x01200011n])).toBe(ALLOW); // glibc fork(): CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
    expect(sys('clone', [0x003d0f00n])).toBe(ALLOW); // pthread_create
    expect(sys('clone', [0xffffffff_00000011n])).toBe(ALLOW); // high garbage is no namespace flag
    expect(sys('clone3')).toBe(RET_ENOSYS);
    expect(sys('ioctl', [0n, BigInt(TIOCSTI)])).toBe(RET_EPERM);
    expect(sys('ioctl', [0n, 0x1_00000000n + BigInt(TIOCSTI)])).toBe(RET_EPERM); // the kernel truncates to u32
    expect(sys('ioctl', [0n, BigInt(TIOCLINUX)])).toBe(RET_EPERM);
    expect(sys('ioctl', [0n, BigInt(TCGETS)])).toBe(ALLOW);
    expect(sys('read')).toBe(ALLOW);
    expect(sys('personality', [0xffffffffn])).toBe(ALLOW);
    expect(run(program, arch, 0x40000000 + nr.getpid!)).toBe(arch === 'x64' ? RET_EPERM : ALLOW); // x32 ABI
  });
});

describe('seccomp module', () => {
  it('returns null for an architecture without a syscall table', () => {
    for (const arch of ['ia32', 'riscv64', 's390x', 'arm', '']) expect(seccompProgram(arch)).toBeNull();
    expect(describeSeccomp('riscv64')).toMatch(/unavailable/);
  });

  it('lists what it denies, and leaves personality alone', () => {
    expect(SECCOMP_DENIED).toEqual(expect.arrayContaining(['ptrace', 'keyctl', 'unshare', 'setns', 'mount', 'bpf', 'userfaultfd']));
    expect(SECCOMP_DENIED).not.toContain('personality');
    expect(new Set(SECCOMP_DENIED).size).toBe(SECCOMP_DENIED.length);
    expect(describeSeccomp('x64')).toMatch(/^seccomp: x64, \d+ syscalls denied/);
    expect(describeSeccomp('x64').split('\n')).toHaveLength(1);
  });
});

// ---- the real kernel, through bubblewrap ----

/** The first executable `name` on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

const BWRAP = onPath('bwrap');
const PROGRAM = seccompProgram();
const HOST_NR = NR[process.arch];
const SKIP = !BWRAP || !PROGRAM || !HOST_NR;
const SKIP_REASON = `skipped when: no bwrap on PATH or unsupported arch ${process.arch}`;

const BWRAP_ARGS = [
  '--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
  '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib',
  '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
];

const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  children.clear();
});

/** Runs argv in the sandbox, with the filter on fd 3 when `filtered`; resolves once it has exited. */
async function sandboxed(argv: string[], filtered: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [...BWRAP_ARGS, ...(filtered ? ['--seccomp', '3'] : []), '--', ...argv];
  const child = spawn(BWRAP!, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  children.add(child);
  const fd3 = child.stdio[3] as Writable;
  fd3.on('error', () => {}); // bwrap closes it after reading; a late EPIPE is not our failure
  fd3.end(filtered ? PROGRAM! : undefined);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

// Probes that are harmless whether or not the filter is there: each either fails on bad
// arguments natively, or (ptrace TRACEME, the sweep) runs in a throw-away forked child.
const PROBE = String.raw`
import ctypes, json, os, socket, subprocess, sys, threading
cfg = json.loads(sys.argv[1])
NR = cfg['nr']
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def raw(nr, *args):
    args = (list(args) + [0] * 6)[:6]
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return 0 if r >= 0 else ctypes.get_errno()
def call(name, *args):
    return raw(NR[name], *args)
def in_child(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(w, json.dumps(fn()).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b''
    while True:
        chunk = os.read(r, 65536)
        if not chunk: break
        data += chunk
    os.waitpid(pid, 0)
    return json.loads(data)
SIGHAND = 0x800
p = {}
p['ptrace'] = in_child(lambda: call('ptrace', 0))  # PTRACE_TRACEME
p['process_vm_readv'] = call('process_vm_readv', os.getpid(), 0, 0, 0, 0, 0)
p['keyctl'] = call('keyctl', 0, -2, 0)  # KEYCTL_GET_KEYRING_ID of the (absent) process keyring
p['add_key'] = call('add_key')
p['request_key'] = call('request_key')
p['unshare_user'] = call('unshare', 0x10000000)
p['unshare_mount'] = call('unshare', 0x20000)
p['setns'] = call('setns', -1, 0)
p['mount'] = call('mount')
p['bpf'] = call('bpf')
p['perf_event_open'] = call('perf_event_open', 0, 0, -1, -1, 0)
p['userfaultfd'] = call('userfaultfd', 1 | os.O_CLOEXEC)  # UFFD_USER_MODE_ONLY
p['clone3'] = call('clone3', 0, 0)
for name, bit in cfg['nsflags'].items():
    p['clone_' + name] = call('clone', bit | SIGHAND)  # SIGHAND without VM: EINVAL if it gets that far
p['clone_sighand'] = call('clone', SIGHAND)
p['ioctl_tiocsti'] = call('ioctl', 0, 0x5412, 0)
p['ioctl_tiocsti_high'] = call('ioctl', 0, (1 << 32) | 0x5412, 0)
p['ioctl_tioclinux'] = call('ioctl', 0, 0x541C, 0)
p['ioctl_tcgets'] = call('ioctl', 0, 0x5401, ctypes.addressof(ctypes.create_string_buffer(64)))
p['personality'] = call('personality', 0xffffffff)
if cfg['x32']:
    p['x32_getpid'] = raw(0x40000000 | NR['getpid'])
    # An i386 getpid through int 0x80: audit arch I386, so the filter must kill.
    # Reported as the child's exit code, or minus the signal that ended it.
    pid = os.fork()
    if pid == 0:
        import mmap
        code = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))  # mov eax, 20; int 0x80; ret
        fn = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(code)))
        os._exit(0 if fn() > 0 else 1)
    p['int80_getpid'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
sweep = in_child(lambda: {str(n): raw(n) for n in cfg['sweep']})
life = {}
pid = os.fork()
if pid == 0:
    os._exit(7)
life['fork'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
life['subprocess'] = subprocess.run(['true']).returncode
seen = []
t = threading.Thread(target=lambda: seen.append(threading.get_native_id()))
t.start(); t.join()
life['thread'] = len(seen) == 1 and seen[0] != threading.get_native_id()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
life['socket'] = s.fileno() >= 0
s.close()
print(json.dumps({'probes': p, 'sweep': sweep, 'life': life}))
`;

type ProbeResult = { probes: Record<string, number>; sweep: Record<string, number>; life: Record<string, unknown> };

async function probe(filtered: boolean): Promise<ProbeResult> {
  const config = {
    nr: HOST_NR,
    nsflags: NAMESPACE_FLAGS,
    x32: process.arch === 'x64',
    sweep: deniedNumbers(decode(PROGRAM!), process.arch),
  };
  const result = await sandboxed(['/usr/bin/python3', '-c', PROBE, JSON.stringify(config)], filtered);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ProbeResult;
}

/** The probe without the filter, run once: the baseline the filtered run is compared with. */
let baseline: Promise<ProbeResult> | undefined;
const unfiltered = (): Promise<ProbeResult> => (baseline ??= probe(false));

const EINVAL = 22;
const ENOTTY = 25;
const SIGSEGV = 11;
const SIGSYS = 31;

describe('under bwrap --seccomp, in the real kernel', () => {
  it.skipIf(SKIP)(`denied syscalls fail with EPERM, clone3 with ENOSYS, and normal life goes on (${SKIP_REASON})`, async () => {
    const { probes, sweep, life } = await probe(true);
    const { clone3, ioctl_tcgets, personality, clone_sighand, int80_getpid, ...denied } = probes;
    expect(clone3).toBe(ENOSYS);
    // Another ABI is killed outright (when this kernel runs i386 code at all; else SIGSEGV either way).
    if (process.arch === 'x64') expect(int80_getpid).toBe((await unfiltered()).probes.int80_getpid === 0 ? -SIGSYS : -SIGSEGV);
    for (const [name, errno] of Object.entries(denied)) expect(errno, name).toBe(EPERM);
    expect(Object.keys(sweep).length).toBeGreaterThan(35);
    for (const [nr, errno] of Object.entries(sweep)) expect(errno, `syscall ${nr}`).toBe(EPERM);
    expect(clone_sighand).toBe(EINVAL); // clone itself is not denied, only its namespace flags
    expect(ioctl_tcgets).toBe(ENOTTY); // other ioctls reach the kernel
    expect(personality).toBe(0);
    expect(life).toEqual({ fork: 7, subprocess: 0, thread: true, socket: true });
  });

  it.skipIf(SKIP)(`the same probes behave differently without the filter (${SKIP_REASON})`, async () => {
    const { probes, life } = await unfiltered();
    expect(probes.ptrace).toBe(0); // PTRACE_TRACEME succeeds natively
    if (process.arch === 'x64') expect([0, -SIGSEGV]).toContain(probes.int80_getpid);
    expect(probes.process_vm_readv).toBe(0);
    expect(probes.userfaultfd).toBe(0);
    expect(probes.clone3).toBe(EINVAL);
    for (const name of Object.keys(NAMESPACE_FLAGS)) expect(probes[`clone_${name}`], name).toBe(EINVAL);
    expect(probes.ioctl_tiocsti).toBe(ENOTTY);
    expect(probes.ioctl_tiocsti_high).toBe(ENOTTY);
    expect(probes.ioctl_tioclinux).toBe(ENOTTY);
    expect(probes.perf_event_open).not.toBe(EPERM);
    expect(probes.setns).not.toBe(EPERM);
    expect(probes.keyctl).not.toBe(EPERM);
    expect(life).toEqual({ fork: 7, subprocess: 0, thread: true, socket: true });
  });

  it.skipIf(SKIP)(`node runs a child process and a Worker under the filter (${SKIP_REASON})`, async () => {
    const script = `
      const { execFileSync } = require('node:child_process');
      const { Worker } = require('node:worker_threads');
      execFileSync('true');
      require('node:fs').writeFileSync('/tmp/x', 'y');
      const worker = new Worker('require("node:worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
      worker.once('message', (m) => console.log(JSON.stringify({ worker: m })));`;
    const result = await sandboxed(['/usr/bin/node', '-e', script], true);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ worker: 42 });
  });
});
