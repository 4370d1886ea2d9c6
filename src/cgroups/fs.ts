/**
 * Small synchronous helpers over cgroupfs shared by the v1 and v2 drivers: reading and writing control
 * files with clear errors, parsing /proc/self/cgroup and mountinfo, listing pids, making and removing
 * folders. Every path is a parameter so a temp folder can stand in for cgroupfs.
 */
import { type Dirent, accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Why: a missing control file (old kernel, absent controller) is a normal answer, not an error.
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

// Why: memory.peak, max_usage_in_bytes and friends are one integer, or absent.
export function readInt(path: string): number | null {
  const text = readText(path)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return null;
  return Number(text);
}

// Why: flat-keyed files (memory.events, memory.oom_control, cgroup.events) hold "key value" lines.
export function readKey(path: string, key: string): number | null {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readText(path) ?? '');
  return match ? Number(match[1]) : null;
}

// Why: the kernel's refusal (EINVAL, EBUSY, EACCES…) must reach the operator with the file and value.
export function writeControl(path: string, value: string, what: string): void {
  try {
    writeFileSync(path, value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`warden: cannot ${what}: writing "${value}" to ${path} failed (${code})`, { cause: error });
  }
}

// Why: optional features are probed by the presence of their control file.
export function exists(path: string): boolean {
  return existsSync(path);
}

// Why: delegation is "may I write here"; access(2) also answers EROFS for a read-only mount.
export function canWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface CgroupLine {
  controllers: string[];
  path: string;
}

// Why: /proc/self/cgroup ("4:memory:/process_api/x", "0::/system.slice/warden.service") names our own cgroups.
export function parseSelfCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (match) out.push({ controllers: match[1] ? match[1].split(',') : [], path: match[2]! });
  }
  return out;
}

export interface Mount {
  /** The folder of the hierarchy this mount shows (not "/" inside a cgroup namespace bind). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

// Why: mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

// Why: where each cgroup hierarchy is mounted, and which part of it, comes from /proc/self/mountinfo.
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions] = right.split(' ');
    if (fields.length < 5 || !fsType) continue;
    out.push({
      root: unescapeMount(fields[3]!),
      mountPoint: unescapeMount(fields[4]!),
      fsType,
      superOptions: (superOptions ?? '').split(','),
    });
  }
  return out;
}

// Why: a cgroup path from /proc/self/cgroup is relative to the hierarchy root; a mount may show only a subtree.
export function underMount(cgroupPath: string, mount: Mount): string | null {
  if (mount.root === '/') return join(mount.mountPoint, cgroupPath);
  if (cgroupPath === mount.root) return mount.mountPoint;
  if (cgroupPath.startsWith(`${mount.root}/`)) return join(mount.mountPoint, cgroupPath.slice(mount.root.length));
  return null;
}

// Why: a plugin with write access could make sub-cgroups and hide there; we walk them all.
export function cgroupTree(dir: string): string[] {
  const out = [dir];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) if (entry.isDirectory()) out.push(...cgroupTree(join(dir, entry.name)));
  return out;
}

// Why: one folder's cgroup.procs (a vanished folder has none).
export function pidsInFile(path: string): number[] {
  return (readText(path) ?? '').split(/\s+/).filter((word) => /^\d+$/.test(word)).map(Number);
}

// Why: the pids of a cgroup tree are what kill() must signal and what pids() reports.
export function pidsIn(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const dir of dirs) for (const sub of cgroupTree(dir)) for (const pid of pidsInFile(join(sub, 'cgroup.procs'))) pids.add(pid);
  return [...pids].sort((a, b) => a - b);
}

// Why: sweep() must tell a dead daemon's leftovers from a live one's (EPERM still means alive).
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Why: the limits need their own, never reused folder: a fresh cgroup restarts the OOM counters.
export function freshDir(dir: string): void {
  if (existsSync(dir)) {
    try {
      rmdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`warden: cgroup ${dir} already exists and cannot be replaced (${code})`, { cause: error });
    }
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`warden: cannot create cgroup ${dir} (${code})`, { cause: error });
  }
}

// Why: best-effort removal of a whole cgroup tree (children first), for sweep and failed creates.
export function rmdirTreeSync(dir: string): void {
  for (const sub of cgroupTree(dir).reverse()) {
    try {
      rmdirSync(sub);
    } catch {
      // populated, or not ours: leave it
    }
  }
}

