// The wall on the real kernel, one plugin host at a time: what a plugin sees and may do behind bwrap.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lookupUser, resolveIdentity, sandboxAccounts } from '../../src/sandbox/identity.js';
import { detectWall, diagnoseWall } from '../../src/sandbox/wall.js';
import { binWithoutBwrap } from '../helpers/no-bwrap.js';
import { CAPABILITIES, PROBE, Tracker } from './helpers.js';

const tracker = new Tracker();
afterEach(async () => tracker.cleanup());

const PASSWD = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nwarden-plugin:x:990:990::/:/usr/sbin/nologin\n';

describe('identity', () => {
  it('prefers the dedicated user, then nobody, and never root', () => {
    expect(resolveIdentity(null, PASSWD)).toEqual({ uid: 990, gid: 990, name: 'warden-plugin' });
    expect(resolveIdentity(null, PASSWD.replace(/warden-plugin.*\n/, ''))).toEqual({ uid: 65534, gid: 65534, name: 'nobody' });
    expect(resolveIdentity('1234:1234', PASSWD)).toEqual({ uid: 1234, gid: 1234, name: '1234' });
    expect(() => resolveIdentity('root', PASSWD)).toThrow(/is root .* must never run as root/);
    expect(() => resolveIdentity('0:5', PASSWD)).toThrow(/root/);
    expect(() => resolveIdentity('ghost', PASSWD)).toThrow(/no user named "ghost"/);
    expect(lookupUser('nobody', PASSWD)?.uid).toBe(65534);
  });

  it('writes a minimal passwd and group holding the plugin identity', () => {
    const { passwd, group } = sandboxAccounts({ uid: 990, gid: 991, name: 'warden-plugin' });
    expect(passwd).toContain('plugin:x:990:991:');
    expect(passwd).not.toContain('/bin/bash');
    expect(group).toContain('plugin:x:991:');
  });
});

describe('diagnoseWall', () => {
  it.each([
    ['bwrap: setting up uid map: Permission denied', /AppArmor.*bwrap-userns-restrict/],
    ['bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces', /user namespaces are disabled/],
    ["bwrap: Can't mount proc on /newroot/proc: Operation not permitted", /ProtectProc=invisible/],
    ['bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted', /AppArmor blocks network/],
  ])('names the cause and the fix for %s', (stderr, fix) => {
    expect(diagnoseWall(stderr)).toMatch(fix);
    expect(diagnoseWall(stderr)).toContain(stderr.replace(/^.*\n/, ''));
  });
});

describe('detectWall', () => {
  it('says what to install when bwrap is not on PATH', async () => {
    const bin = binWithoutBwrap();
    const probe = await detectWall({ user: null, path: bin }).finally(() => rmSync(bin, { recursive: true, force: true }));
    expect(probe.wall).toBeNull();
    expect(probe.problem).toBe('bwrap not found on PATH: install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)');
  });

  it('refuses a root sandbox.user before building anything', async () => {
    const probe = await detectWall({ user: 'root' });
    expect(probe.wall).toBeNull();
    expect(probe.problem).toMatch(/sandbox.user: root is root/);
  });
});

describe.skipIf(!CAPABILITIES.wall)(`behind the wall (skipped when: ${CAPABILITIES.wallProblem})`, () => {
  it('the plugin sees its own folder, not the host: no shadow, no daemon, no other folders', async () => {
    const other = tracker.tempDir();
    writeFileSync(join(other, 'secret.txt'), 'secret');
    const { call, plan } = await tracker.start();
    expect(plan.enforcement).toMatchObject({ fs: 'mount-namespace+node-permission', signals: 'pid-namespace', syscalls: 'seccomp' });
    // The node permission layer answers first for paths it was not given; the mount namespace is what holds.
    expect((await call('read', { path: '/etc/shadow' })).ok).toBe(false);
    expect((await call('read', { path: join(other, 'secret.txt') })).ok).toBe(false);
    expect(await call('read', { path: join(PROBE, 'plugin.json') })).toMatchObject({ ok: true });
  });

  it('a command plugin (no node permission layer) finds nothing of the host either', async () => {
    const other = tracker.tempDir();
    writeFileSync(join(other, 'secret.txt'), 'secret');
    const { call, host } = await tracker.start({ manifest: { main: undefined, command: [process.execPath, 'index.js'] } });
    expect(await call('read', { path: '/etc/shadow' })).toEqual({ ok: false, code: 'ENOENT' });
    expect(await call('read', { path: join(other, 'secret.txt') })).toEqual({ ok: false, code: 'ENOENT' });
    expect(await call('read', { path: `/proc/${process.pid}/environ` })).toMatchObject({ ok: false });
    expect(await call('write', { path: join(PROBE, 'x.txt') })).toMatchObject({ ok: false });
    expect(await call('write', { path: '/tmp/private.txt' })).toEqual({ ok: true });
    // The status shows the plugin's own process, as the host sees it, with the identity and limits of the wall.
    const status = readFileSync(`/proc/${host.pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+(\d+)/m);
    if (process.getuid?.() === 0) expect(/^Uid:\s+(\d+)/m.exec(status)![1]).not.toBe('0');
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    expect(readFileSync(`/proc/${host.pid}/cmdline`, 'utf8').split('\0')[1]).toBe('index.js');
  });

  it('a plugin outside the package imports warden/sdk without the loader hook, and its own copy still wins', async () => {
    const dir = tracker.tempDir();
    cpSync(PROBE, dir, { recursive: true });
    const { call, plan } = await tracker.start({ dir });
    expect(plan.launch.args).not.toContain('--import');
    const execArgv = (await call('execArgv')) as string[];
    expect(execArgv).not.toContain('--import');
    expect(execArgv.some((a) => a.includes('register.js'))).toBe(false);
    expect(execArgv).not.toContain('--allow-worker');
    // node_modules/warden in the plugin folder comes first in node's walk; /node_modules/warden is the last.
    const own = join(dir, 'node_modules', 'warden');
    mkdirSync(join(own, 'sdk'), { recursive: true });
    writeFileSync(join(own, 'package.json'), JSON.stringify({ name: 'warden', type: 'module', exports: { './sdk': './sdk/index.js' } }));
    writeFileSync(join(own, 'sdk', 'index.js'), "export * from '/node_modules/warden/dist/sdk/index.js';\nprocess.env.OWN_SDK = 'yes';\n");
    const second = await tracker.start({ dir });
    expect(await second.call('env')).toMatchObject({ OWN_SDK: 'yes' });
  });

});
