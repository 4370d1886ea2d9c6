/**
 * scripts/install.sh, the README's "Run as a service" steps, run into a temporary root: the package in
 * ROOT/opt/warden with only its production dependencies, `warden` on PATH as a symlink that resolves and
 * runs (with this machine's node), the unit systemd-analyze accepts, the sysusers file, the config, the
 * folders with their modes; and nothing run outside the root (no systemctl, no user creation, no chown).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const SCRIPT = join(ROOT, 'scripts', 'install.sh');
/** systemd's PATH for system services: where `/usr/bin/env node` in ExecStart looks. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin';
const EXEC_START = '/usr/bin/env node /opt/warden/dist/cli/main.js daemon --config /etc/warden/warden.yaml';

const hasAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

let tmp: string;
/** Commands that must never run for a root other than /: each records its call here, then fails. */
let fakeBin: string;
let calls: string;
/**
 * A small stand-in checkout (the shipped systemd/ files, a stub CLI, no dependencies) for the runs that
 * check paths, not the package: copying the real node_modules takes seconds each time.
 */
let lightSource: string;

function ensureBuilt(): void {
  if (existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(join(ROOT, 'dist', 'index.js'))) return;
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' });
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('npm run build did not produce dist/cli/main.js');
}

/** PATH with the recording fakes first, then this node's folder (the one `#!/usr/bin/env node` must find). */
function testPath(): string {
  return [fakeBin, dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(':');
}

function install(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: testPath(), NODE_OPTIONS: '' },
    timeout: 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const mode = (path: string): string => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

/** Every path under `dir` (not following symlinks). */
function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out.push(p);
    if (lstatSync(p).isDirectory()) walk(p, out);
  }
  return out;
}

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'warden-install-'));
  fakeBin = join(tmp, 'fake-bin');
  calls = join(tmp, 'calls.log');
  mkdirSync(fakeBin);
  for (const name of ['systemctl', 'systemd-sysusers', 'useradd', 'groupadd', 'usermod', 'chown', 'chgrp', 'journalctl']) {
    writeFileSync(join(fakeBin, name), `#!/bin/sh\necho "${name} $*" >> '${calls}'\nexit 1\n`);
    chmodSync(join(fakeBin, name), 0o755);
  }
  lightSource = join(tmp, 'light-source');
  mkdirSync(join(lightSource, 'dist', 'cli'), { recursive: true });
  mkdirSync(join(lightSource, 'node_modules'));
  mkdirSync(join(lightSource, 'systemd'));
  writeFileSync(join(lightSource, 'package.json'), `${JSON.stringify({ name: 'warden', version: '1.0.0', type: 'module' }, null, 2)}\n`);
  writeFileSync(join(lightSource, 'dist', 'cli', 'main.js'), "#!/usr/bin/env node\nconsole.log('stub');\n");
  for (const f of ['warden.service', 'warden.sysusers', 'warden.yaml']) {
    writeFileSync(join(lightSource, 'systemd', f), readFileSync(join(ROOT, 'systemd', f)));
  }
}, 120_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/install.sh into a temporary root', () => {
  let root: string;
  let result: ReturnType<typeof install>;

  beforeAll(() => {
    root = join(tmp, 'root');
    mkdirSync(root);
    result = install(['--root', root]);
  }, 200_000);

  it('succeeds, and runs nothing outside the root: systemctl, the users and chown are printed instead', () => {
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
    for (const line of [
      'would run: systemd-sysusers /usr/lib/sysusers.d/warden.conf',
      'would run: chown warden:warden /var/lib/warden /var/lib/warden/plugins /var/log/warden',
      'would run: systemctl daemon-reload',
      'would run: systemctl enable warden',
      'would run: systemctl restart warden',
    ]) {
      expect(result.stdout).toContain(line);
    }
    // The step the README also names: group membership needs a new login.
    expect(result.stdout).toMatch(/newgrp warden/);
  });

  it('puts the package in /opt/warden with its production dependencies only, readable by all, writable by root', () => {
    const opt = join(root, 'opt', 'warden');
    for (const f of ['package.json', 'dist/cli/main.js', 'dist/sdk/index.js', 'dist/index.js', 'schema/plugin.schema.json', 'systemd/warden.service']) {
      expect(existsSync(join(opt, f)), f).toBe(true);
    }
    for (const dep of Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies)) {
      expect(existsSync(join(opt, 'node_modules', dep, 'package.json')), dep).toBe(true);
    }
    for (const dev of ['typescript', 'vitest', '@types/node']) expect(existsSync(join(opt, 'node_modules', dev)), dev).toBe(false);
    expect(mode(opt)).toBe('0755');
    expect(mode(join(opt, 'dist', 'cli', 'main.js'))).toBe('0755');
    for (const p of walk(opt)) {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      expect(st.mode & 0o022, `${p} is group- or world-writable`).toBe(0);
      expect(st.mode & 0o004, `${p} is not world-readable`).toBe(0o004);
    }
    // No staging or previous tree left beside it.
    expect(readdirSync(join(root, 'opt'))).toEqual(['warden']);
  });

  it('links /usr/local/bin/warden (relative) to the CLI, and it runs with the real node', () => {
    const link = join(root, 'usr', 'local', 'bin', 'warden');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('../../../opt/warden/dist/cli/main.js');
    expect(realpathSync(link)).toBe(realpathSync(join(root, 'opt', 'warden', 'dist', 'cli', 'main.js')));
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, NODE_OPTIONS: '' };
    const help = spawnSync(link, ['--help'], { encoding: 'utf8', env });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: warden /);
    expect(execFileSync(link, ['--version'], { encoding: 'utf8', env }).trim()).toBe('1.0.0');
    // A real command, through the installed dependencies: no daemon there, so exit 69 naming the socket.
    const sock = join(tmp, 'nothing-here.sock');
    const status = spawnSync(link, ['status'], { encoding: 'utf8', env: { ...env, WARDEN_SOCKET: sock } });
    expect(status.status, status.stderr).toBe(69);
    expect(status.stderr).toContain(sock);
  });

  it('installs the unit, the sysusers file and the config as shipped, with their modes', () => {
    const unit = join(root, 'etc', 'systemd', 'system', 'warden.service');
    const sysusers = join(root, 'usr', 'lib', 'sysusers.d', 'warden.conf');
    const config = join(root, 'etc', 'warden', 'warden.yaml');
    expect(readFileSync(unit, 'utf8')).toBe(readFileSync(join(ROOT, 'systemd', 'warden.service'), 'utf8'));
    expect(readFileSync(sysusers, 'utf8')).toBe(readFileSync(join(ROOT, 'systemd', 'warden.sysusers'), 'utf8'));
    expect(readFileSync(config, 'utf8')).toBe(readFileSync(join(ROOT, 'systemd', 'warden.yaml'), 'utf8'));
    for (const f of [unit, sysusers, config]) expect(mode(f), f).toBe('0644');
    expect(mode(join(root, 'etc', 'warden'))).toBe('0755');
    expect(readFileSync(unit, 'utf8')).toMatch(new RegExp(`^ExecStart=${EXEC_START.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  });

  it('makes the state, plugins and log folders 0750', () => {
    for (const d of ['var/lib/warden', 'var/lib/warden/plugins', 'var/log/warden']) expect(mode(join(root, d)), d).toBe('0750');
  });

  const verifyTitle = `the installed unit passes systemd-analyze verify${hasAnalyze ? '' : ' (skipped: systemd-analyze is not installed)'}`;
  it.skipIf(!hasAnalyze)(verifyTitle, () => {
    // ExecStart's binary is /usr/bin/env, which exists here: the unit is verified as installed. Only
    // User=/Group= become the current user where no warden user exists (as in test/systemd/unit.test.ts).
    let text = readFileSync(join(root, 'etc', 'systemd', 'system', 'warden.service'), 'utf8');
    if (spawnSync('id', ['-u', 'warden'], { stdio: 'ignore' }).status !== 0) {
      const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
      text = text.replace(/^User=warden$/m, `User=${userInfo().username}`).replace(/^Group=warden$/m, `Group=${group}`);
    }
    const dir = mkdtempSync(join(tmp, 'verify-'));
    const copy = join(dir, 'warden.service');
    writeFileSync(copy, text);
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  it("ExecStart's `/usr/bin/env node` finds a node >= 20.19 on systemd's PATH and runs the installed CLI", () => {
    const node = spawnSync('/usr/bin/env', ['-i', `PATH=${SYSTEMD_PATH}`, 'node', '-p', 'process.versions.node'], { encoding: 'utf8' });
    if (node.status !== 0) return; // no node on systemd's PATH on this machine: the install script refuses such hosts
    const [major, minor] = node.stdout.trim().split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 19), node.stdout).toBe(true);
    const cli = join(root, 'opt', 'warden', 'dist', 'cli', 'main.js');
    expect(execFileSync('/usr/bin/env', ['-i', `PATH=${SYSTEMD_PATH}`, 'node', cli, '--version'], { encoding: 'utf8' }).trim()).toBe('1.0.0');
  });

  it('run again (an upgrade): replaces the package, keeps an edited config and puts the new one beside it', () => {
    const config = join(root, 'etc', 'warden', 'warden.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}# edited by the operator\n`);
    writeFileSync(join(root, 'opt', 'warden', 'stale-file'), 'from the previous version');
    const again = install(['--root', root, '--no-start', '--source', lightSource]);
    expect(again.status, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(readFileSync(config, 'utf8')).toMatch(/# edited by the operator\n$/);
    expect(readFileSync(`${config}.dist`, 'utf8')).toBe(readFileSync(join(ROOT, 'systemd', 'warden.yaml'), 'utf8'));
    expect(existsSync(join(root, 'opt', 'warden', 'stale-file'))).toBe(false);
    expect(readFileSync(join(root, 'opt', 'warden', 'dist', 'cli', 'main.js'), 'utf8')).toContain("console.log('stub')");
    expect(readdirSync(join(root, 'opt'))).toEqual(['warden']);
    expect(again.stdout).not.toContain('systemctl restart');
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
  }, 200_000);
});

describe('scripts/install.sh options and refusals', () => {
  it('--prefix and --bindir: the unit and the link follow them', () => {
    const root = join(tmp, 'root-prefix');
    mkdirSync(root);
    const r = install(['--root', root, '--prefix', '/srv/warden', '--bindir', '/usr/bin', '--source', lightSource]);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const unit = readFileSync(join(root, 'etc', 'systemd', 'system', 'warden.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node \/srv\/warden\/dist\/cli\/main\.js daemon --config \/etc\/warden\/warden\.yaml$/m);
    expect(unit).not.toContain('/opt/warden');
    const link = join(root, 'usr', 'bin', 'warden');
    expect(readlinkSync(link)).toBe('../../srv/warden/dist/cli/main.js');
    expect(realpathSync(link)).toBe(realpathSync(join(root, 'srv', 'warden', 'dist', 'cli', 'main.js')));
  }, 200_000);

  it('refuses a node older than 20.19 (the one the service would run), naming what to install, before copying anything', () => {
    const root = join(tmp, 'root-old-node');
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    // Debian 12's own nodejs, as /usr/bin/node inside the root: what `/usr/bin/env node` would find there.
    writeFileSync(join(root, 'usr', 'bin', 'node'), "#!/bin/sh\nprintf '18.19.0'\n");
    chmodSync(join(root, 'usr', 'bin', 'node'), 0o755);
    const r = install(['--root', root]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(root, 'usr', 'bin', 'node')} is Node.js 18.19.0; warden needs >= 20.19`);
    expect(r.stderr).toMatch(/Node\.js 22/);
    expect(existsSync(join(root, 'opt'))).toBe(false);
  });

  it('refuses a checkout that is not built, and an unknown option', () => {
    const source = join(tmp, 'unbuilt');
    mkdirSync(source);
    writeFileSync(join(source, 'package.json'), JSON.stringify({ name: 'warden', version: '1.0.0' }, null, 2));
    const root = join(tmp, 'root-unbuilt');
    mkdirSync(root);
    const unbuilt = install(['--root', root, '--source', source]);
    expect(unbuilt.status).toBe(1);
    expect(unbuilt.stderr).toMatch(/is not built: run `npm ci` there first/);
    expect(readdirSync(root)).toEqual([]);

    const bad = install(['--root', root, '--frobnicate']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown argument: --frobnicate/);
  });

  it('is POSIX sh (dash runs --help)', () => {
    const dash = spawnSync('dash', ['-n', SCRIPT], { encoding: 'utf8' });
    if (dash.error) return; // no dash here: `sh` above was enough
    expect(dash.status, dash.stderr).toBe(0);
    const help = spawnSync('dash', [SCRIPT, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--root DIR/);
  });
});
