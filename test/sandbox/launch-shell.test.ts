// The launch shell: one `sh` that sets the rlimits (soft and hard alike) and joins the cgroup, then
// execs the command with its own pid. Against plain folders standing in for cgroups, with a real shell.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joinArgv, launchShellArgv } from '../../src/cgroups/join.js';

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the prefix with `cat /proc/self/limits` appended: the exec'd program's own limits. */
function limitsAfter(prefix: string[]): { status: number | null; limits: string; stderr: string } {
  const run = spawnSync(prefix[0]!, [...prefix.slice(1), '/bin/cat', '/proc/self/limits'], { encoding: 'utf8' });
  return { status: run.status, limits: run.stdout, stderr: run.stderr };
}

describe('launchShellArgv', () => {
  it('sets RLIMIT_NOFILE and RLIMIT_DATA as both the soft and the hard limit, without a cgroup', () => {
    const argv = launchShellArgv(null, { nofile: 72, dataKb: 300 * 1024 })!;
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    const run = limitsAfter(argv);
    expect(run.status, run.stderr).toBe(0);
    expect(run.limits).toMatch(/Max open files\s+72\s+72\s/);
    expect(run.limits).toMatch(new RegExp(`Max data size\\s+${300 * 1024 * 1024}\\s+${300 * 1024 * 1024}\\s`));
  });

  it('is null when there is neither a cgroup nor a limit (no exec for nothing)', () => {
    expect(launchShellArgv(null, {})).toBeNull();
  });

  it('joins the cgroup in the same shell: one exec, the command keeps the shell\'s pid', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'warden-launch-shell-'));
    temps.push(tmp);
    const dirs = ['memory', 'pids x'].map((name) => join(tmp, name));
    for (const dir of dirs) mkdirSync(dir);
    const argv = launchShellArgv(joinArgv(dirs), { nofile: 40 })!;
    expect(argv.slice(3)).toEqual(dirs);
    const run = spawnSync(argv[0]!, [...argv.slice(1), '/bin/sh', '-c', 'echo $$; ulimit -n; ulimit -H -n'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const [pid, soft, hard] = run.stdout.trim().split('\n');
    for (const dir of dirs) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe(`${pid}\n`);
    expect([soft, hard]).toEqual(['40', '40']);
  });

  it('exits 125 with a clear line when a limit cannot be set, before running the command', () => {
    // RLIMIT_NOFILE above the kernel's nr_open is refused even to root.
    const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
    const run = limitsAfter(launchShellArgv(null, { nofile: nrOpen + 1 })!);
    expect(run.status).toBe(125);
    expect(run.limits).toBe('');
    expect(run.stderr).toContain(`warden: cannot set RLIMIT_NOFILE to ${nrOpen + 1}`);
  });
});
