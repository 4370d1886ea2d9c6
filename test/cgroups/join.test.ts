// The join prefix against plain folders: which pid is written where, that paths are never parsed by
// the shell, and the error when a write fails. (The real kernel join is in kernel-v1.test.ts.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joinArgv } from '../../src/cgroups/join.js';
import { Tracker } from './helpers.js';

const tracker = new Tracker();
afterEach(() => tracker.cleanup());

describe('joinArgv', () => {
  it('writes the shell\'s pid into every cgroup.procs, then execs the command with that same pid', () => {
    const tmp = tracker.tempDir('warden-join-');
    // names a shell would mangle if it ever parsed them
    const dirs = ['a b', '$(touch pwned)', "it's; `x`"].map((name) => join(tmp, name));
    for (const dir of dirs) mkdirSync(dir);
    const argv = joinArgv(dirs);
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv.slice(3)).toEqual(dirs);
    const run = spawnSync(argv[0]!, [...argv.slice(1), '/bin/sh', '-c', 'echo "$$ $0 $1"', 'cmd0', 'arg 1'], { cwd: tmp, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const [pid, ...rest] = run.stdout.trim().split(' ');
    expect(rest.join(' ')).toBe('cmd0 arg 1');
    for (const dir of dirs) expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).toBe(`${pid}\n`);
    expect(existsSync(join(tmp, 'pwned'))).toBe(false);
  });

  it('exits 125 with a clear line when a cgroup cannot be joined, before running the command', () => {
    const tmp = tracker.tempDir('warden-join-');
    const missing = join(tmp, 'gone');
    const argv = joinArgv([tmp, missing], '/bin/sh');
    const run = spawnSync(argv[0]!, [...argv.slice(1), '/bin/sh', '-c', 'echo ran'], { encoding: 'utf8' });
    expect(run.status).toBe(125);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^warden: cannot join cgroup ${missing}: .*(nonexistent|No such file)`));
    expect(() => joinArgv([])).toThrow(/at least one/);
  });
});
