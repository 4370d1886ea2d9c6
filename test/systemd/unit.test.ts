/**
 * systemd/warden.service passes `systemd-analyze verify` and lets the wall work (bubblewrap needs
 * namespaces, mount syscalls, sethostname and a /proc nothing hides; per-plugin cgroups need Delegate=
 * and a writable /sys/fs/cgroup); systemd/warden.yaml is a valid production config; warden.sysusers
 * declares the service user and the plugin user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = join(ROOT, 'systemd', 'warden.service');
const CONFIG = join(ROOT, 'systemd', 'warden.yaml');
const SYSUSERS = join(ROOT, 'systemd', 'warden.sysusers');
const README = join(ROOT, 'README.md');

/** The systemd version of `systemd-analyze`, or null when it is not installed. */
function analyzeVersion(): number | null {
  const r = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const m = /^systemd (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}
const systemdVersion = analyzeVersion();
const hasAnalyze = systemdVersion !== null;
const hasSysusers = spawnSync('systemd-sysusers', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * `systemd-analyze security --offline=true systemd/warden.service`, as measured with systemd 252
 * (Debian 12) and quoted in the README. Other systemd versions weigh the settings differently.
 */
const RECORDED_EXPOSURE = { systemd: 252, line: 'Overall exposure level for warden.service: 3.1 OK' };

/** `Key=value` lines of one section, keys may repeat. */
function directives(text: string, section: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== section) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** A boolean directive that is absent or switched off (systemd accepts yes/no, true/false, on/off, 1/0). */
function isOff(values: string[] | undefined): boolean {
  return values === undefined || values.every((v) => /^(no|false|off|0)$/i.test(v.trim()));
}

function userExists(name: string): boolean {
  return spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
}

describe('systemd/warden.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const service = directives(text, 'Service');

  it('has the lifecycle settings and the hardening that does not get in the way of the wall', () => {
    const expected: Record<string, string> = {
      Type: 'simple',
      User: 'warden',
      Group: 'warden',
      ExecStart: '/usr/bin/env node /opt/warden/dist/cli/main.js daemon --config /etc/warden/warden.yaml',
      ExecReload: '/bin/kill -HUP $MAINPID',
      StateDirectory: 'warden',
      RuntimeDirectory: 'warden',
      LogsDirectory: 'warden',
      ProtectSystem: 'strict',
      ProtectHome: 'true',
      NoNewPrivileges: 'true',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      PrivateTmp: 'true',
      // SIGTERM to the daemon alone (it stops plugins in dependency order), SIGKILL to what is left.
      KillMode: 'mixed',
      Restart: 'on-failure',
      RestartPreventExitStatus: '78',
      // A failed syscall is an error the plugin can report, not a SIGSYS kill.
      SystemCallErrorNumber: 'EPERM',
      SystemCallArchitectures: 'native',
    };
    for (const [key, value] of Object.entries(expected)) expect(service.get(key), key).toEqual([value]);
    expect(service.has('SuccessExitStatus')).toBe(true);
    // The control socket's folder: the owner and the warden group (operators), never others.
    expect(['0700', '0750']).toContain(service.get('RuntimeDirectoryMode')?.[0]);
    // Longer than the default stopTimeoutMs (5 s) with room for dependency chains.
    const stop = /^(\d+)s$/.exec(service.get('TimeoutStopSec')?.[0] ?? '');
    expect(Number(stop?.[1])).toBeGreaterThan(5);
  });

  it('delegates its cgroup subtree and leaves /sys/fs/cgroup writable (per-plugin cgroups)', () => {
    expect(service.get('Delegate')).toEqual(['yes']);
    // ProtectControlGroups=yes mounts /sys/fs/cgroup read-only, which would defeat Delegate=.
    expect(isOff(service.get('ProtectControlGroups')), 'ProtectControlGroups').toBe(true);
    // DelegateSubgroup= is systemd 254+; 252 (Debian 12) warns about it in verify: the daemon moves itself instead.
    expect(service.has('DelegateSubgroup')).toBe(false);
  });

  it('lets bubblewrap make the namespaces every sandbox needs', () => {
    const restrict = service.get('RestrictNamespaces') ?? [];
    expect(restrict).toHaveLength(1);
    const value = restrict[0]!.trim();
    // An allow-list (not "yes", not a "~" deny-list) naming each namespace bwrap makes.
    expect(value.startsWith('~')).toBe(false);
    expect(/^(yes|true|on|1)$/i.test(value)).toBe(false);
    const allowed = value.split(/\s+/);
    for (const ns of ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup']) expect(allowed, ns).toContain(ns);
  });

  it('allows the syscalls bubblewrap uses to build a sandbox', () => {
    const filters = service.get('SystemCallFilter') ?? [];
    // One allow-list line: a later "~…" line could take @mount away again.
    expect(filters).toHaveLength(1);
    expect(filters[0]!.startsWith('~')).toBe(false);
    const allowed = filters[0]!.split(/\s+/);
    // @mount: mount, umount2, pivot_root ("Failed to make / slave" without it); sethostname: the sandbox's
    // own uts namespace gets its own hostname ("Can't set hostname" without it).
    for (const entry of ['@system-service', '@mount', 'sethostname']) expect(allowed, entry).toContain(entry);
    // AF_NETLINK: bwrap brings up the loopback of each sandbox's network namespace.
    expect(service.get('RestrictAddressFamilies')?.[0]?.split(/\s+/)).toContain('AF_NETLINK');
  });

  it('has none of the settings that break the wall', () => {
    // Each hides part of /proc, and the kernel then refuses the fresh /proc a sandbox mounts
    // ("Can't mount proc on /newroot/proc"); ProtectHostname also forbids sethostname; PrivateUsers
    // gets in the way of the sandboxes' uid maps; MemoryDenyWriteExecute breaks V8's JIT.
    for (const key of ['ProtectKernelTunables', 'ProtectKernelLogs', 'ProtectHostname', 'PrivateUsers', 'MemoryDenyWriteExecute']) {
      expect(isOff(service.get(key)), `${key} must be absent or off`).toBe(true);
    }
    for (const [key, harmless] of [['ProtectProc', 'default'], ['ProcSubset', 'all']] as const) {
      const values = service.get(key);
      expect(values === undefined || values.every((v) => v === harmless), `${key} must be absent or ${harmless}`).toBe(true);
    }
  });

  const verifyTitle = `passes systemd-analyze verify without a warning${hasAnalyze ? '' : ' (skipped: systemd-analyze is not installed)'}`;
  it.skipIf(!hasAnalyze)(verifyTitle, () => {
    // `verify` checks that ExecStart's binary exists and is executable, and the production paths
    // (/usr/bin/node, /opt/warden) need not exist here; so a copy of the unit, with ExecStart pointed at
    // this node and this checkout, is verified instead. User=/Group= are only resolved when the service
    // starts (systemd 252 does not look them up in verify), but where no `warden` user exists they
    // become the current user, so that a systemd that does check has nothing to complain about.
    // Everything else is verified exactly as shipped.
    const dir = mkdtempSync(join(tmpdir(), 'warden-unit-'));
    try {
      let unit = text.replace(
        /^ExecStart=.*$/m,
        `ExecStart=${process.execPath} ${join(ROOT, 'dist', 'cli', 'main.js')} daemon --config ${CONFIG}`,
      );
      if (!userExists('warden')) {
        const me = userInfo().username;
        const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
        unit = unit.replace(/^User=warden$/m, `User=${me}`).replace(/^Group=warden$/m, `Group=${group}`);
      }
      const copy = join(dir, 'warden.service');
      writeFileSync(copy, unit);
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      // verify exits 0 on mere warnings (an unknown key is "ignoring"), so any output is a failure too.
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const offline = systemdVersion !== null && systemdVersion >= 250;
  const securityTitle = `gets an overall exposure figure from systemd-analyze security --offline=true${
    !hasAnalyze ? ' (skipped: systemd-analyze is not installed)' : offline ? '' : ` (skipped: systemd ${systemdVersion} has no --offline, it needs 250+)`
  }`;
  it.skipIf(!offline)(securityTitle, () => {
    // --offline reads the unit file alone: no running systemd, no warden user needed.
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    expect(r.status, output).toBe(0);
    const m = /Overall exposure level for warden\.service: (\d+(?:\.\d+)?) ([A-Z]+)/.exec(output);
    expect(m, output).not.toBeNull();
    const [, figure, level] = m!;
    // 0 (perfect) to 10 (unsafe); the wall needs namespaces and mount syscalls, which cost a little.
    expect(Number(figure)).toBeLessThan(5);
    // The figure the README quotes: with the systemd it was measured on, it must still be the same.
    if (systemdVersion === RECORDED_EXPOSURE.systemd) {
      expect(`Overall exposure level for warden.service: ${figure} ${level}`).toBe(RECORDED_EXPOSURE.line);
    }
  });

  it('is quoted in the README with its recorded exposure figure', () => {
    expect(readFileSync(README, 'utf8')).toContain(RECORDED_EXPOSURE.line);
  });
});

describe('systemd/warden.sysusers', () => {
  const text = readFileSync(SYSUSERS, 'utf8');
  const users = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(/\s+/));

  it('declares the service user and the plugin user, both without a login shell', () => {
    const byName = new Map(users.filter((u) => u[0] === 'u').map((u) => [u[1], u]));
    expect([...byName.keys()].sort()).toEqual(['warden', 'warden-plugin']);
    for (const entry of byName.values()) expect(entry.at(-1)).toBe('/usr/sbin/nologin');
    // The plugin user owns nothing and has no home: the sandbox gives it HOME=its plugin folder.
    expect(byName.get('warden-plugin')?.at(-2)).toBe('-');
  });

  const sysusersTitle = `is accepted by systemd-sysusers --dry-run${hasSysusers ? '' : ' (skipped: systemd-sysusers is not installed)'}`;
  it.skipIf(!hasSysusers)(sysusersTitle, () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-sysusers-'));
    try {
      const r = spawnSync('systemd-sysusers', ['--dry-run', `--root=${dir}`, SYSUSERS], { encoding: 'utf8' });
      const output = `${r.stdout}${r.stderr}`;
      expect(r.status, output).toBe(0);
      expect(output).toMatch(/Creating user '?warden'? /);
      expect(output).toMatch(/Creating user '?warden-plugin'? /);
      expect(output).not.toMatch(/ignoring|failed|invalid/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('systemd/warden.yaml', () => {
  it('loads and gives the production paths', () => {
    const config = loadConfig(CONFIG);
    expect(config.pluginsDir).toBe('/var/lib/warden/plugins');
    expect(config.stateDir).toBe('/var/lib/warden');
    expect(config.socket).toEqual({ path: '/run/warden/warden.sock', mode: 0o660, group: 'warden' });
    expect(config.logging.dir).toBe('/var/log/warden');
  });

  it('fits the unit: every path lives in a folder the unit makes writable', () => {
    const config = loadConfig(CONFIG);
    expect(config.stateDir.startsWith('/var/lib/warden')).toBe(true); // StateDirectory=warden
    expect(config.socket.path.startsWith('/run/warden/')).toBe(true); // RuntimeDirectory=warden
    expect(config.logging.dir.startsWith('/var/log/warden')).toBe(true); // LogsDirectory=warden
    // The unit's stop timeout leaves room for a few plugins stopping one after another.
    const stopSec = Number(/^TimeoutStopSec=(\d+)s$/m.exec(readFileSync(UNIT, 'utf8'))?.[1]);
    expect(stopSec * 1000).toBeGreaterThanOrEqual(config.defaults.stopTimeoutMs * 4);
  });
});
