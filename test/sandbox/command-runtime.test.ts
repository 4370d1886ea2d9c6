// A command's runtime outside the system folders (an absolute program, or a relative one that links out of
// the plugin folder, such as a venv's .venv/bin/python) is a read beyond the plugin's folder: it joins the
// plugin's fs.read, where the approval asks for it, and only from there is it bound. A bare name, or a
// link that stays inside the folder, brings nothing.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beyondBaseline } from '../../src/policies/approval.js';
import type { Capabilities } from '../../src/sandbox/capabilities.js';
import { planLaunch } from '../../src/sandbox/launch.js';
import { effectivePermissions, realPath } from '../../src/sandbox/permissions.js';
import { commandRuntime, withCommandRuntime } from '../../src/sandbox/runtime.js';
import { testManifest } from '../helpers/manifest.js';
import { LIMITS, NO_CAPABILITIES } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'warden-command-runtime-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const LAYOUT = { symlinks: {}, folders: ['/usr'], etc: [], etcNetwork: [] };
const WALL: Capabilities = {
  ...NO_CAPABILITIES,
  wall: { bwrap: '/usr/bin/bwrap', version: '0.8.0', mode: 'userns', identity: { uid: 1000, gid: 1000, name: 'me' }, setpriv: '/usr/bin/setpriv', layout: LAYOUT, seccomp: null },
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

const manifestOf = (command: string[]) => testManifest({ name: 'p', main: undefined, command });
/** The permissions the daemon gives it: the manifest's, with its command's runtime to read. */
const permissionsOf = (command: string[]) => withCommandRuntime(effectivePermissions(manifestOf(command).permissions, undefined, plugin), manifestOf(command), plugin, LAYOUT);

function binds(command: string[], permissions = permissionsOf(command)): string[] {
  const { launch } = planLaunch({ dir: plugin, manifest: manifestOf(command), permissions, limits: LIMITS, capabilities: WALL });
  const argv = [launch.file, ...launch.args];
  return argv.flatMap((a, i) => (a === '--ro-bind' || a === '--ro-bind-try' ? [argv[i + 1]!] : []));
}

describe('the runtime of a command', () => {
  it('is a read the approval asks for, for a relative program that links out and for an absolute one', () => {
    for (const command of [['.venv/bin/python', 'server.py'], [join(python, 'bin/python3')]]) {
      expect(commandRuntime(manifestOf(command), plugin, LAYOUT)).toBe(python);
      expect(beyondBaseline(permissionsOf(command), realPath(plugin)).fs.read).toEqual([python]);
      expect(binds(command)).toContain(python);
    }
  });

  it('is never bound without being among its fs.read paths', () => {
    const command = ['.venv/bin/python', 'server.py'];
    expect(() => binds(command, manifestOf(command).permissions)).toThrow(
      `its command .venv/bin/python runs from ${python}, outside the system folders and not among its fs.read paths: that read awaits the operator's grant (warden plugin grant p)`,
    );
  });

  it('is nothing for a bare name, a link inside the folder, a system program, or a main plugin', () => {
    expect(commandRuntime(manifestOf(['python3', 'server.py']), plugin, LAYOUT)).toBeNull();
    expect(commandRuntime(manifestOf(['./inside']), plugin, LAYOUT)).toBeNull();
    expect(commandRuntime(manifestOf(['/usr/bin/env']), plugin, LAYOUT)).toBeNull();
    expect(commandRuntime(testManifest({ name: 'p', main: 'index.js' }), plugin, LAYOUT)).toBeNull();
    expect(binds(['./inside'])).toEqual(binds(['python3']));
  });

  it('directly in / (or a home folder) is never asked for, and the launch says why', () => {
    // /tmp/x: its installation would be / itself.
    const loose = `/tmp/warden-loose-${process.pid}`;
    writeFileSync(loose, '');
    try {
      const manifest = manifestOf([loose]);
      expect(withCommandRuntime(manifest.permissions, manifest, plugin, LAYOUT)).toBe(manifest.permissions);
      expect(() => binds([loose])).toThrow(`the runtime ${loose} (${realPath(loose)}) lies directly in /; the wall binds a runtime's own folder, never /`);
    } finally {
      rmSync(loose, { force: true });
    }
  });
});
