// A command that runs from an installation outside the system folders (here a launcher in a folder of its
// own, as a pyenv or /opt interpreter would be) reads outside its plugin folder: it waits for the operator's
// grant like any such read, and once granted it runs with that installation bound read-only.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/daemon.js';
import { bootWall, teardown, type WallBoot } from './helpers.js';

let boot: WallBoot | undefined;
afterEach(async () => {
  await teardown(boot);
  boot = undefined;
});

describe("a command's runtime outside the system folders", () => {
  it('waits for the grant, naming the read; runs once granted', async () => {
    let runtime = '';
    boot = await bootWall(
      {},
      { outside: { from: join(REPO, 'test/fixtures/minimal'), manifest: { main: undefined, command: ['/placeholder'] } } },
      {},
      (sandbox) => {
        runtime = join(sandbox.dir, 'runtime');
        mkdirSync(join(runtime, 'bin'), { recursive: true });
        const launcher = join(runtime, 'bin/run-plugin');
        writeFileSync(launcher, '#!/bin/sh\nexec node index.js\n');
        chmodSync(launcher, 0o755);
        chmodSync(runtime, 0o755);
        const manifest = join(sandbox.pluginsDir, 'outside/plugin.json');
        writeFileSync(manifest, JSON.stringify({ name: 'outside', version: '1.0.0', command: [launcher] }));
      },
    );
    const { daemon } = boot;
    const waiting = await daemon.waitForState('outside', 'waiting');
    expect(waiting.reason).toContain(`read ${runtime}`);
    expect(waiting.reason).toContain('warden plugin grant outside');
    expect(waiting.pid).toBeNull();

    await daemon.request('plugin.grant', { name: 'outside' });
    await daemon.waitForState('outside', 'running');
    expect(await daemon.call('outside', 'ping')).toBe('pong');
  });
});
