/**
 * The CLI's lenient reading of a config's socket.path gives what the daemon's own loader gives, for a
 * valid config, and for one that is invalid elsewhere; a socket key it cannot read is reported.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readConfigSocket } from '../../src/cli/config-socket.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir } from './helpers/fake-daemon.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir('warden-config-socket-');
  mkdirSync(join(dir, 'etc'));
  file = join(dir, 'etc', 'warden.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readConfigSocket', () => {
  const sockets: [string, string][] = [
    ['a relative path', 'socket: { path: var/w.sock }'],
    ['a ./ path', 'socket: { path: ./w.sock }'],
    ['a ../ path', 'socket: { path: ../run/warden/w.sock }'],
    ['an absolute path', 'socket: { path: /tmp/elsewhere/w.sock }'],
    ['a path with . and .. inside', 'socket: { path: "a/./b/../w.sock" }'],
    ['no socket key', 'pluginsDir: ../plugins'],
    ['a socket without a path', 'socket: { mode: "0600" }'],
    ['an empty socket key', 'socket:'],
    ['an empty file', ''],
  ];

  for (const [what, yaml] of sockets) {
    it(`${what}: the loader's answer, whether the rest is valid or not`, async () => {
      writeFileSync(file, `${yaml}\n`);
      const expected = loadConfig(file).socket.path;
      expect(await readConfigSocket(file)).toEqual({ ok: true, path: expected });
      // The same socket in a config that the loader refuses for another key.
      writeFileSync(file, `${yaml}\nsampling: { intervalMs: fast }\nnotAKey: true\n`);
      expect(() => loadConfig(file)).toThrow();
      expect(await readConfigSocket(file)).toEqual({ ok: true, path: expected });
    });
  }

  it('says why when the file cannot be read or parsed, or the key is not a path', async () => {
    expect(await readConfigSocket(join(dir, 'absent.yaml'))).toEqual({ ok: false, reason: 'file not found' });
    writeFileSync(file, 'socket: { path: [unclosed\n');
    expect(await readConfigSocket(file)).toMatchObject({ ok: false, reason: expect.stringMatching(/^line \d+/) });
    writeFileSync(file, '- a\n- list\n');
    expect(await readConfigSocket(file)).toMatchObject({ ok: false, reason: expect.stringContaining('mapping') });
    writeFileSync(file, 'socket: { path: 42 }\n');
    expect(await readConfigSocket(file)).toEqual({ ok: false, reason: 'socket.path: expected a path, got 42' });
    writeFileSync(file, 'socket: { path: "" }\n');
    expect(await readConfigSocket(file)).toEqual({ ok: false, reason: 'socket.path: expected a path, got ""' });
    writeFileSync(file, 'socket: /tmp/w.sock\n');
    expect(await readConfigSocket(file)).toEqual({ ok: false, reason: 'socket: expected a mapping with a path, got "/tmp/w.sock"' });
  });
});
