// What `plugin.grant` refuses: an unknown plugin, and a plugin whose manifest on disk no longer parses
// (nothing is approved then: the operator would be approving a file nobody can read).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import { ErrorCodes } from '../../src/protocol/index.js';
import { LANGS, attacker, bootWall, teardown, type WallBoot } from './helpers.js';

async function refusal(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(() => new Error('expected a refusal'), (e: unknown) => e);
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

describe('plugin.grant refuses what it cannot approve', () => {
  let boot: WallBoot | undefined;

  beforeAll(async () => {
    // Hot reload off: the broken manifest stays unseen by the supervisor, as between an edit and its reload.
    boot = await bootWall({ hotReload: { enabled: false } }, { asker: attacker(LANGS[0]!, { permissions: { network: true } }) });
  });
  afterAll(() => teardown(boot));

  it('an unknown plugin: -32001', async () => {
    const error = await refusal(boot!.daemon.request('plugin.grant', { name: 'nobody-here' }));
    expect(error.code).toBe(ErrorCodes.UnknownPlugin);
  });

  it('a manifest that no longer parses: -32007 naming why, and the plugin keeps waiting', async () => {
    const { daemon, sandbox } = boot!;
    expect((await daemon.waitForState('asker', 'waiting')).reason).toContain('warden plugin grant asker');
    writeFileSync(join(sandbox.pluginsDir, 'asker', 'plugin.json'), '{ "name": "asker", ');
    const error = await refusal(daemon.request('plugin.grant', { name: 'asker' }));
    expect(error.code).toBe(ErrorCodes.NotAllowedInState);
    expect(error.message).toMatch(/cannot grant plugin asker: its manifest is invalid \(.*not valid JSON/);
    expect(await daemon.status('asker')).toMatchObject({ state: 'waiting' });
  });
});
