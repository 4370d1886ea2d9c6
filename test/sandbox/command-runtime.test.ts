// A relative `command` that links out of the plugin folder (a venv's .venv/bin/python made by a python
// outside /usr) brings that installation into the wall read-only, as an absolute command does; a bare
// name, or a link that stays inside the folder, brings nothing.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { testManifest } from '../helpers/manifest.js';
import { LIMITS, NO_CAPABILITIES } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'warden-command-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const WALL: Capabilities = {
  ...NO_CAPABILITIES,
  wall: {
    bwrap: '/usr/bin/bwrap',
    version: '0.8.0',
    mode: 'userns',
    identity: { uid: 1000, gid: 1000, name: 'me' },
    setpriv: '/usr/bin/setpriv',
    layout: { symlinks: {}, folders: ['/usr'], etc: [], etcNetwork: [] },
    seccomp: null,
  },
};

// <root>/python: an installation of its own; <root>/plugin: a plugin whose .venv/bin/python links to it.
const python = join(root, 'python');
mkdirSync(join(python, 'bin'), { recursive: true });
writeFileSync(join(python, 'bin/python3'), '');
chmodSync(join(python, 'bin/python3'), 0o755);
const plugin = join(root, 'plugin');
mkdirSync(join(plugin, '.venv/bin'), { recursive: true });
symlinkSync(join(python, 'bin/python3'), join(plugin, '.venv/bin/python'));
writeFileSync(join(plugin, 'tool'), '');
symlinkSync('tool', join(plugin, 'inside'));

function binds(command: string[]): string[] {
  const manifest = testManifest({ name: 'p', main: undefined, command });
  const { launch } = planLaunch({ dir: plugin, manifest, permissions: manifest.permissions, limits: LIMITS, capabilities: WALL });
  const argv = [launch.file, ...launch.args];
  return argv.flatMap((a, i) => (a === '--ro-bind' ? [argv[i + 1]!] : []));
}

describe('the runtime of a relative command', () => {
  it('binds the installation a relative program links to', () => {
    expect(binds(['.venv/bin/python', 'server.py'])).toContain(python);
  });

  it('binds nothing more for a bare name or a link inside the folder', () => {
    expect(binds(['python3', 'server.py'])).not.toContain(python);
    expect(binds(['./inside'])).toEqual(binds(['python3']));
  });
});
