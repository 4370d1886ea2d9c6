// The daemon as the systemd unit runs it: an unprivileged user. The wall is then an unprivileged user
// namespace (bwrap --unshare-user --disable-userns); the plugin has no more rights than the daemon's user.
import { chmodSync, chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, TestDaemon } from '../helpers/daemon.js';
import { AS_NOBODY, NOBODY, packageForNobody } from '../helpers/nobody.js';
import { LANGS, WALL_DEFAULTS, attacker } from './helpers.js';

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
  let cleanupCopy = (): void => undefined;

  beforeAll(async () => {
    sandbox = new Sandbox();
    sandbox.writeConfig({ defaults: WALL_DEFAULTS });
    for (const lang of LANGS) sandbox.addPlugin(`attack-${lang.lang}`, attacker(lang));
    chmodSync(sandbox.dir, 0o755);
    chownTree(sandbox.dir, NOBODY);
    daemon = new TestDaemon(sandbox);
    const runnable = packageForNobody();
    cleanupCopy = runnable.cleanup;
    await daemon.start({}, AS_NOBODY, join(runnable.root, 'dist/cli/main.js'));
  });

  afterAll(async () => {
    await daemon?.cleanup();
    sandbox?.remove();
    cleanupCopy();
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
