// Shared pieces of the attack suite: the hostile fixtures in both languages, a daemon booted on a
// sandbox the plugin's identity (nobody) can read, and host-side checks (escapees by token, RSS).
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FAST_DEFAULTS, REPO, Sandbox, TestDaemon, type PluginSpec } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

export const ATTACK_JS = join(REPO, 'test/fixtures/attack/js');
export const ATTACK_PY = join(REPO, 'test/fixtures/attack/python');

export interface Lang {
  lang: 'js' | 'python';
  from: string;
  /** The manifest fields that make it run (main or command). */
  entry: Record<string, unknown>;
}

export const LANGS: Lang[] = [
  { lang: 'js', from: ATTACK_JS, entry: { main: 'index.js' } },
  { lang: 'python', from: ATTACK_PY, entry: { main: undefined, command: ['python3', 'main.py'] } },
];

/** A plugin spec for the attack fixture in `lang`: its entry, `fs.write: ./out`, plus `manifest`. */
export function attacker(lang: Lang, manifest: Record<string, unknown> = {}): PluginSpec {
  return {
    from: lang.from,
    manifest: { ...lang.entry, permissions: { fs: { write: ['./out'] } }, ...manifest },
  };
}

/** Fast policies for the wall: quick stops so every stop-ladder test stays short. */
export const WALL_DEFAULTS = { ...FAST_DEFAULTS, stopTimeoutMs: 1000 };

export interface WallBoot {
  sandbox: Sandbox;
  daemon: TestDaemon;
}

/**
 * Like bootDaemon, but the sandbox folder is 0755 (the plugins run as nobody) and the daemon gets
 * extra environment (a secret, or a PATH without bwrap).
 */
export async function bootWall(
  config: Record<string, unknown>,
  plugins: Record<string, PluginSpec>,
  env: NodeJS.ProcessEnv = {},
  prepare?: (sandbox: Sandbox) => void,
): Promise<WallBoot> {
  const sandbox = new Sandbox();
  chmodSync(sandbox.dir, 0o755);
  chmodSync(sandbox.pluginsDir, 0o755);
  sandbox.writeConfig({ defaults: WALL_DEFAULTS, ...config });
  for (const [name, spec] of Object.entries(plugins)) sandbox.addPlugin(name, spec);
  prepare?.(sandbox);
  const daemon = new TestDaemon(sandbox);
  try {
    await daemon.start(env);
  } catch (error) {
    await daemon.cleanup().catch(() => undefined);
    sandbox.remove();
    throw error;
  }
  return { sandbox, daemon };
}

/** Stops everything a boot started and removes its folder; safe on a partial boot. */
export async function teardown(boot: WallBoot | undefined): Promise<void> {
  if (!boot) return;
  try {
    await boot.daemon.cleanup();
  } finally {
    boot.sandbox.remove();
  }
}

/** Host pids (live, not zombies) whose command line holds `token`. */
export function findByToken(token: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(token) && isAlive(pid)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** SIGKILLs whatever still carries `token` (cleanup after a failed assertion). */
export function killByToken(token: string): void {
  for (const pid of findByToken(token)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A fresh token, unique on this host. */
export function newToken(label: string): string {
  return `warden-escapee-${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The session id of a host process (field 6 of /proc/PID/stat). */
export function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** VmRSS of a host process, in bytes. */
export function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** The daemon's log lines (stdout, one JSON entry per line), parsed where they parse. */
export function daemonLog(daemon: TestDaemon): Array<Record<string, unknown>> {
  const text = daemon.daemon?.stdout.join('') ?? '';
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      out.push({ msg: line });
    }
  }
  return out;
}

/** Times one status round-trip, in ms. */
export async function timedStatus(daemon: TestDaemon): Promise<{ ms: number; plugins: Array<{ name: string; state: string }> }> {
  const started = performance.now();
  const status = await daemon.request<{ plugins: Array<{ name: string; state: string }> }>('status');
  return { ms: performance.now() - started, plugins: status.plugins };
}

/** Waits until no process carries `token` on the host. */
export async function waitGone(token: string, timeoutMs = 5000): Promise<void> {
  await waitFor(`the escapee ${token} to be gone`, () => findByToken(token).length === 0, { timeoutMs });
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export { binWithoutBwrap } from '../helpers/no-bwrap.js';
