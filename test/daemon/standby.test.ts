// The restart standby (restart.standby): the next instance's sandbox is built ahead and waits, a crash
// restarts from it, and nothing of it outlives its plugin, a change of its launch, or the daemon.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../sandbox/helpers.js';
import { bootDaemon, FAST_DEFAULTS, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  for (const pid of standbys()) process.kill(pid, 'SIGKILL');
  sandbox?.remove();
  sandbox = undefined;
  daemon = undefined;
});

/** Live processes whose command line holds `text`. */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(text))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The standby of this test's plugin: the outer bwrap (the spawned process) of a launch with --block-fd. */
function standbys(): number[] {
  if (!sandbox) return [];
  const dir = sandbox.pluginsDir;
  return processesWith(dir).filter((pid) => {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0]!.endsWith('/bwrap') && argv.includes('--block-fd') && parentOf(pid) !== null && !readFileSync(`/proc/${parentOf(pid)}/cmdline`, 'utf8').includes('--block-fd');
  });
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** The cgroup folders (v1 memory or v2) a process is in. */
function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

const standbyConfig = { defaults: { ...FAST_DEFAULTS, restart: { ...FAST_DEFAULTS.restart, initialDelayMs: 0, standby: true } } };

describe.skipIf(!CAPABILITIES.wall || !CAPABILITIES.cgroup)(`restart.standby (skipped when: ${CAPABILITIES.wallProblem ?? CAPABILITIES.cgroupProblem})`, () => {
  it('parks a built sandbox a moment after the plugin runs, restarts a crash from it, and parks the next one', async () => {
    ({ sandbox, daemon } = await bootDaemon(standbyConfig, { echo: {} }));
    const first = await daemon.waitForState('echo', 'running');
    const [parked] = await waitFor('a standby to be parked', () => (standbys().length === 1 ? standbys() : undefined));
    // Its sandbox is built (bwrap's init runs inside it), in a cgroup of its own, and the plugin is not running in it.
    expect(cgroupOf(parked!)).not.toBe(cgroupOf(first.pid!));
    expect(processesWith('/index.js').filter((pid) => pid !== first.pid && parentOf(parentOf(pid)!) === parked)).toEqual([]);

    process.kill(first.pid!, 'SIGKILL');
    const restarted = await waitFor('echo to run again', async () => {
      const status = await daemon!.status('echo');
      return status.state === 'running' && status.pid !== first.pid ? status : undefined;
    });
    // The new plugin runs under the parked bwrap: plugin → bwrap's init → the parked bwrap.
    expect(parentOf(parentOf(restarted.pid!)!)).toBe(parked);
    expect(await daemon.call('echo', 'echo', { n: 1 })).toEqual({ n: 1 });
    expect(restarted.restarts).toBe(1);
    const next = await waitFor('the next standby', () => standbys().find((pid) => pid !== parked));
    expect(next).not.toBe(parked);
  });

  it('drops the standby when the plugin stops, and leaves nothing when the daemon exits', async () => {
    ({ sandbox, daemon } = await bootDaemon(standbyConfig, { echo: {} }));
    await daemon.waitForState('echo', 'running');
    const [parked] = await waitFor('a standby to be parked', () => (standbys().length === 1 ? standbys() : undefined));
    const groups = cgroupOf(parked!)
      .split('\n')
      .map((line) => line.split(':')[2])
      .filter((path): path is string => !!path && path.includes('echo'));
    await daemon.request('plugin.stop', { name: 'echo' });
    await waitFor('the standby to be gone', () => standbys().length === 0);
    expect(groups.length).toBeGreaterThan(0);
    await waitFor('its cgroup to be removed', () => groups.every((path) => !readdirSync('/sys/fs/cgroup').some((c) => existsSync(`/sys/fs/cgroup/${c}${path}`))));

    await daemon.request('plugin.start', { name: 'echo' });
    await waitFor('a standby again', () => standbys().length === 1);
    await daemon.stop('SIGTERM');
    await waitFor('no standby after the daemon exits', () => standbys().length === 0);
  });

  it('does not use a standby parked for another launch: a change of limits starts afresh and parks anew', async () => {
    ({ sandbox, daemon } = await bootDaemon(standbyConfig, { echo: {} }));
    const first = await daemon.waitForState('echo', 'running');
    const [parked] = await waitFor('a standby to be parked', () => (standbys().length === 1 ? standbys() : undefined));
    // Raise the limits (the reload restarts it blue/green with the new settings).
    sandbox.writeConfig({ ...standbyConfig, plugins: { echo: { limits: { handles: 300 } } } });
    await daemon.request('daemon.reload');
    const next = await waitFor('echo to serve with its new limits', async () => {
      const status = await daemon!.status('echo');
      return status.state === 'running' && status.pid !== first.pid && status.limits.handles === 300 ? status : undefined;
    });
    expect(parentOf(parentOf(next.pid!)!)).not.toBe(parked);
    await waitFor('the old standby to be gone and a new one parked', () => standbys().length === 1 && !standbys().includes(parked!));
  });

  it('parks nothing by default', async () => {
    ({ sandbox, daemon } = await bootDaemon({}, { echo: {} }));
    const status = await daemon.waitForState('echo', 'running');
    await waitFor('the plugin to have run past the standby delay', () => Date.now() - Date.parse(status.startedAt!) > 1500);
    expect(standbys()).toEqual([]);
  });
});
