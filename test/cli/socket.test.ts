/**
 * Where the built CLI looks for the daemon when no --socket is given: $WARDEN_SOCKET, $WARDEN_CONFIG's
 * config, ./config/warden.yaml, the package's own config, /run/warden/warden.sock (contract §6), run
 * from folders other than the package's, against fake daemons on real unix sockets.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeDaemon, tempDir, type FakeDaemon } from './helpers/fake-daemon.js';
import { STATUS } from './helpers/fixtures.js';
import { copyPackage, type PackageCopy } from './helpers/package-copy.js';
import { killLeftovers, runCli, type CliOptions } from './helpers/run-cli.js';

const PRODUCTION = '/run/warden/warden.sock';
const HINT = 'is it running? start it with `warden daemon`';

let pkg: PackageCopy;
let packageDaemon: FakeDaemon; // listens where the package's own config says
let localDaemon: FakeDaemon; // listens where a folder's ./config/warden.yaml says
let cwd: string; // the operator's current folder: anywhere but the package

const handlers = { status: () => STATUS, 'daemon.reload': () => ({ ok: false, error: 'config: sampling.intervalMs: expected a number, got "fast"' }) };

beforeAll(async () => {
  pkg = copyPackage();
  pkg.writeConfig('socket: { path: ../var/warden.sock }\n');
  mkdirSync(join(pkg.dir, 'var'));
  packageDaemon = await startFakeDaemon(handlers, join(pkg.dir, 'var'));
  localDaemon = await startFakeDaemon(handlers);
});

afterAll(async () => {
  await packageDaemon?.close();
  await localDaemon?.close();
  pkg?.remove();
});

beforeEach(() => {
  cwd = tempDir('warden-cwd-');
});

afterEach(() => {
  killLeftovers();
  packageDaemon.requests.length = 0;
  localDaemon.requests.length = 0;
  rmSync(cwd, { recursive: true, force: true });
});

const cli = (args: string[], options: CliOptions = {}) => runCli(args, { cwd, cli: pkg.cli, ...options });

function writeLocalConfig(text: string, folder = cwd): string {
  mkdirSync(join(folder, 'config'), { recursive: true });
  const file = join(folder, 'config', 'warden.yaml');
  writeFileSync(file, text);
  return file;
}

describe('without --socket or $WARDEN_SOCKET', () => {
  it("uses the package's own config from a folder without one", async () => {
    const r = await cli(['status', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(packageDaemon.requests.map((q) => q.method)).toEqual(['status']);
  });

  it('prefers ./config/warden.yaml, relative paths against its folder', async () => {
    writeLocalConfig(`socket: { path: ${JSON.stringify(localDaemon.socketPath)} }\n`);
    const r = await cli(['status', '--json']);
    expect(r.code).toBe(0);
    expect(localDaemon.requests.map((q) => q.method)).toEqual(['status']);
    expect(packageDaemon.requests).toEqual([]);

    // A relative socket.path is taken from the config's folder, not from the current one.
    mkdirSync(join(cwd, 'deeper'));
    writeLocalConfig('socket: { path: ../run/w.sock }\n');
    const down = await cli(['status'], { cwd: join(cwd, 'deeper') });
    expect(down.code).toBe(0); // ./config is relative to the current folder: deeper has none
    const here = await cli(['status']);
    expect(here.stderr).toContain(`${join(cwd, 'run', 'w.sock')} (from ./config/warden.yaml): no such file`);
  });

  it('reads only socket.path from a config edited into an invalid state, so reload shows the refusal', async () => {
    writeLocalConfig(`sampling: { intervalMs: fast }\nbogus: 1\nsocket: { path: ${JSON.stringify(localDaemon.socketPath)}, mode: "0660" }\n`);
    const r = await cli(['reload']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: config not reloaded: config: sampling.intervalMs: expected a number, got "fast"\n');
    expect(localDaemon.requests.map((q) => q.method)).toEqual(['daemon.reload']);
  });

  it('skips a config that does not parse, saying so, for the next source', async () => {
    const file = writeLocalConfig('socket: { path: [unclosed\n');
    const r = await cli(['status', '--json']);
    expect(r.code).toBe(0);
    expect(packageDaemon.requests.map((q) => q.method)).toEqual(['status']);
    expect(r.stderr).toMatch(/^warden: warning: skipped \.\/config\/warden\.yaml: line \d+.*; trying the next source\n$/);
    expect(existsSync(file)).toBe(true);
  });

  it('skips a config whose socket key cannot be read, saying so', async () => {
    writeLocalConfig('socket: { path: 42 }\n');
    const r = await cli(['status', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warden: warning: skipped ./config/warden.yaml: socket.path: expected a path, got 42; trying the next source\n');
    writeLocalConfig('socket: [a, list]\n');
    const list = await cli(['status', '--json']);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain('skipped ./config/warden.yaml: socket: expected a mapping with a path, got a list;');
  });

  it("says so when ./config/warden.yaml's daemon is not there and a later default answers", async () => {
    writeLocalConfig('socket: { path: ../var/gone.sock }\n');
    const r = await cli(['status', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warden: warning: no daemon at ${join(cwd, 'var', 'gone.sock')} (from ./config/warden.yaml): no such file; ` +
        `using ${packageDaemon.socketPath} (from the package's config ${pkg.configPath})\n`,
    );
    expect(packageDaemon.requests.map((q) => q.method)).toEqual(['status']);
  });
});

describe('when nothing answers', () => {
  let quiet: PackageCopy; // a package whose own daemon is not running
  beforeAll(() => {
    quiet = copyPackage();
    quiet.writeConfig('socket: { path: ../var/warden.sock }\n');
  });
  afterAll(() => quiet?.remove());

  it('exits 69 naming every socket it tried, in order, and where each came from', async () => {
    writeLocalConfig('socket: { path: ../x/var/warden.sock }\n');
    const r = await cli(['status'], { cli: quiet.cli });
    expect(r.code).toBe(69);
    expect(r.stdout).toBe('');
    const production = existsSync(PRODUCTION) ? '' : `, ${PRODUCTION} (the production default): no such file; ${HINT}`;
    expect(r.stderr).toMatch(/^error: [^\n]*\n$/);
    expect(r.stderr).toContain(
      `error: cannot reach the warden daemon at ${join(cwd, 'x', 'var', 'warden.sock')} (from ./config/warden.yaml): no such file; ` +
        `also tried ${join(quiet.dir, 'var', 'warden.sock')} (from the package's config ${quiet.configPath}): no such file${production}`,
    );
  });

  it('lists the skipped config files first, as warnings', async () => {
    writeLocalConfig(': : :\n');
    const r = await cli(['status'], { cli: quiet.cli, env: { WARDEN_CONFIG: join(cwd, 'absent.yaml') } });
    expect(r.code).toBe(69);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`warden: warning: skipped $WARDEN_CONFIG ${join(cwd, 'absent.yaml')}: file not found; trying the next source`);
    expect(lines[1]).toMatch(/^warden: warning: skipped \.\/config\/warden\.yaml: .+; trying the next source$/);
    expect(lines[2]).toMatch(new RegExp(`^error: cannot reach the warden daemon at ${quiet.dir}/var/warden\\.sock \\(from the package's config `));
  });

  it('from the package folder itself, lists its config once', async () => {
    const r = await cli(['status'], { cli: quiet.cli, cwd: quiet.dir });
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`at ${join(quiet.dir, 'var', 'warden.sock')} (from ./config/warden.yaml): no such file`);
    expect(r.stderr).not.toContain("the package's config");
  });
});

describe('a socket the operator names is the only one tried', () => {
  it('--socket and $WARDEN_SOCKET', async () => {
    const absent = join(cwd, 'absent.sock');
    for (const options of [{ args: ['--socket', absent] }, { args: [], env: { WARDEN_SOCKET: absent } }]) {
      const r = await cli([...options.args, 'status'], options.env ? { env: options.env } : {});
      expect(r.code).toBe(69);
      const from = options.env ? '$WARDEN_SOCKET' : '--socket';
      expect(r.stderr).toBe(`error: cannot reach the warden daemon at ${absent} (from ${from}): no such file; ${HINT}\n`);
    }
    expect(packageDaemon.requests).toEqual([]);
  });

  it("$WARDEN_CONFIG's socket, over ./config/warden.yaml", async () => {
    writeLocalConfig(`socket: { path: ${JSON.stringify(localDaemon.socketPath)} }\n`);
    writeFileSync(join(cwd, 'other.yaml'), 'socket: { path: ./other.sock }\nsampling: { intervalMs: -1 }\n');
    const r = await cli(['status'], { env: { WARDEN_CONFIG: 'other.yaml' } });
    expect(r.code).toBe(69);
    expect(r.stderr).toBe(
      `error: cannot reach the warden daemon at ${join(cwd, 'other.sock')} (from $WARDEN_CONFIG ${join(cwd, 'other.yaml')}): no such file; ${HINT}\n`,
    );
    expect(localDaemon.requests).toEqual([]);
    expect(packageDaemon.requests).toEqual([]);

    writeFileSync(join(cwd, 'other.yaml'), `socket: { path: ${JSON.stringify(packageDaemon.socketPath)} }\n`);
    const ok = await cli(['status', '--json'], { env: { WARDEN_CONFIG: join(cwd, 'other.yaml') } });
    expect(ok.code).toBe(0);
    expect(packageDaemon.requests.map((q) => q.method)).toEqual(['status']);
  });
});
