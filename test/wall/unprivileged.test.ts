// The daemon as the systemd unit runs it: an unprivileged user. The wall is then an unprivileged user
// namespace (bwrap --unshare-user --disable-userns); the plugin has no more rights than the daemon's user.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, Sandbox, TestDaemon } from '../helpers/daemon.js';
import { LANGS, WALL_DEFAULTS, attacker } from './helpers.js';

const NOBODY = 65534;
const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];

/**
 * The daemon's CLI as nobody can run it: this checkout when nobody can read it, else a copy of the built
 * package in a temp folder (a checkout under a private home, as a CI clone under /root may be).
 */
function cliForNobody(): { cli: string; copy: string | null } {
  if (spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'test', '-r', CLI]).status === 0) return { cli: CLI, copy: null };
  const copy = mkdtempSync(join(tmpdir(), 'warden-package-'));
  chmodSync(copy, 0o755);
  for (const part of ['package.json', 'dist', 'node_modules']) cpSync(join(REPO, part), join(copy, part), { recursive: true });
  return { cli: join(copy, 'dist/cli/main.js'), copy };
}
const root = process.getuid?.() === 0;

/** Hands a whole folder to the daemon's user, as an install would (StateDirectory=, LogsDirectory=). */
function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), uid);
}

describe.skipIf(!root)('an unprivileged daemon (run as nobody, like the systemd unit)', () => {
  let sandbox: Sandbox;
  let daemon: TestDaemon;
  let copy: string | null = null;

  beforeAll(async () => {
    sandbox = new Sandbox();
    sandbox.writeConfig({ defaults: WALL_DEFAULTS });
    for (const lang of LANGS) sandbox.addPlugin(`attack-${lang.lang}`, attacker(lang));
    chmodSync(sandbox.dir, 0o755);
    chownTree(sandbox.dir, NOBODY);
    daemon = new TestDaemon(sandbox);
    const runnable = cliForNobody();
    copy = runnable.copy;
    await daemon.start({}, AS_NOBODY, runnable.cli);
  });

  afterAll(async () => {
    await daemon?.cleanup();
    sandbox?.remove();
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it.each(LANGS)('runs a $lang plugin in a user namespace, with nothing of the host', async (lang) => {
    const name = `attack-${lang.lang}`;
    const status = await daemon.waitForState(name, 'running');
    expect(status.enforcement).toMatchObject({ identity: 'user-namespace', signals: 'pid-namespace', syscalls: 'seccomp' });
    expect(status.enforcement.fs).toMatch(/^mount-namespace/);
    expect((await daemon.call<{ uid: number }>(name, 'identity')).uid).toBe(NOBODY);
    // As the host sees the plugin's process: the daemon's user, no capabilities, no way to gain any, filtered.
    const proc = readFileSync(`/proc/${status.pid}/status`, 'utf8');
    expect(proc).toMatch(new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
    expect(proc).toMatch(/^CapEff:\s+0+$/m);
    expect(proc).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(proc).toMatch(/^Seccomp:\s+2$/m);
    expect(await daemon.call(name, 'read', { path: '/etc/shadow' })).toMatchObject({ ok: false });
    expect(await daemon.call(name, 'read', { path: sandbox.configPath })).toMatchObject({ ok: false });
    expect(await daemon.call(name, 'connect', { path: sandbox.socketPath })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await daemon.call(name, 'write', { path: join(sandbox.pluginsDir, name, 'out', 'ok.txt') })).toMatchObject({ ok: true });
  });
});
