// The floor under every start figure: the launch warden plans for a plugin (the launch shell joining a
// fresh cgroup, setpriv, bwrap with seccomp and the dropped identity, node), spawned by a bare parent
// with no daemon at all. What warden adds on top of it is supervision; what it adds to bare node is the wall.
import { spawn, type ChildProcess } from 'node:child_process';
import type { PluginCgroup } from '../dist/cgroups/index.js';
import { loadPlugin } from '../dist/manifest/discover.js';
import type { Manifest } from '../dist/manifest/types.js';
import { claimCgroup, detectCapabilities, type Capabilities } from '../dist/sandbox/capabilities.js';
import { planLaunch, type LaunchSpec } from '../dist/sandbox/launch.js';
import { INITIALIZE_LINE, protocolPluginDir } from './protocol-plugin.js';

const LIMITS = { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 };

/** What a walled launch needs: this host's capabilities (the cgroup driver claimed, as a daemon has it) and the plugin. */
export interface Floor {
  capabilities: Capabilities;
  dir: string;
  manifest: Manifest;
}

export async function prepareFloor(): Promise<Floor> {
  const capabilities = claimCgroup(await detectCapabilities());
  if (!capabilities.wall) throw new Error(`bench: no wall on this host (${capabilities.wallProblem})`);
  const dir = protocolPluginDir();
  const discovered = await loadPlugin(dir);
  if (!discovered.ok) throw new Error(`bench: the protocol plugin is invalid: ${discovered.reason}`);
  return { capabilities, dir, manifest: discovered.manifest };
}

/** The walled launch of the bench's protocol plugin, in a fresh cgroup of its own (removed by endLaunch). */
export function planWalled(floor: Floor, instance: string): { launch: LaunchSpec; cgroup: PluginCgroup | null } {
  const { capabilities, dir, manifest } = floor;
  const cgroup = capabilities.cgroup?.create('bench-floor', instance, LIMITS) ?? null;
  const { launch } = planLaunch({ dir, manifest, permissions: manifest.permissions, limits: LIMITS, capabilities, cgroup });
  return { launch, cgroup };
}

/** Spawns a planned launch as the daemon does (its extra fds fed), sends the handshake; resolves at the answer. */
export function spawnToAnswer(launch: LaunchSpec): { child: ChildProcess; answered: Promise<void> } {
  const fds = launch.fds ?? [];
  const child = spawn(launch.file, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ['pipe', 'pipe', 'inherit', ...fds.map(() => 'pipe' as const)] });
  fds.forEach((fd, i) => {
    const stream = child.stdio[i + 3] as unknown as NodeJS.ReadWriteStream;
    stream.on('error', () => undefined);
    if ('input' in fd) stream.end(fd.input);
    else stream.resume();
  });
  child.stdin!.on('error', () => undefined);
  child.stdin!.write(INITIALIZE_LINE);
  const answered = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code, signal) => reject(new Error(`bench: the walled plugin exited (${signal ?? code}) before answering`)));
  });
  return { child, answered };
}

/** Ends a child (stdin closed, then its cgroup emptied and removed). */
export async function endLaunch(child: ChildProcess, cgroup: PluginCgroup | null): Promise<void> {
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.stdin!.end();
  await closed;
  if (cgroup) {
    await cgroup.kill();
    await cgroup.remove();
  }
}

/** Milliseconds from spawning the walled launch to its answered handshake (cgroup creation and planning included). */
export async function walledSpawnToAnswerMs(floor: Floor, instance: string): Promise<number> {
  const started = process.hrtime.bigint();
  const { launch, cgroup } = planWalled(floor, instance);
  const { child, answered } = spawnToAnswer(launch);
  await answered;
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  await endLaunch(child, cgroup);
  return ms;
}
