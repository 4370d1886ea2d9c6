/**
 * A lazy MCP plugin whose tools warden has not seen at its version is started once to list them: what
 * happens when that start fails (fake hosts on a fake clock, the tool memory in memory only).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';
import { ToolMemory } from '../../src/state/tool-memory.js';
import { Harness, NAME } from './harness.js';

const IDLE_MS = 5_000;
const ADD = { name: 'add', inputSchema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] } };

function discovering(): { h: Harness; tools: ToolMemory } {
  const tools = new ToolMemory(null);
  const h = new Harness({ definition: { activation: 'lazy', idleStopMs: IDLE_MS, protocol: 'mcp' }, tools });
  return { h, tools };
}

describe('a lazy MCP plugin whose tools are not known yet', () => {
  it('a discovery start that fails goes to the restart policy; the retry lists and remembers its tools, then it rests', async () => {
    const { h, tools } = discovering();
    const booted = h.plugin.boot();
    await h.settle();
    expect(h.hosts).toHaveLength(1);
    expect(h.logLines('info')).toContain('its tools at version 1.0.0 are not known yet: starting it once to list them');
    h.host.failStart('no answer to initialize within 1000ms');
    await booted;
    await h.settle();
    expect(h.plugin.status()).toMatchObject({ state: 'backoff', lastError: { kind: 'start', message: 'no answer to initialize within 1000ms' } });
    expect(tools.get(NAME)).toBeUndefined();
    expect(h.plugin.mcpTools).toBeNull();

    await h.advance(100); // the first backoff
    expect(h.hosts).toHaveLength(2);
    h.host.readyMcp([ADD]);
    await h.settle();
    expect(h.state).toBe('running');
    expect(tools.get(NAME)).toMatchObject({ version: '1.0.0', tools: [ADD] });

    await h.advance(IDLE_MS);
    expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: 'idle', pid: null });
    // Asleep, its remembered tools still check a call's params without waking it.
    const bad = await h.plugin.call('add', { a: 'x' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(bad).toBeInstanceOf(RpcError);
    expect([(bad as RpcError).code, (bad as RpcError).message]).toEqual([ErrorCodes.InvalidParams, 'params.a: must be integer']);
    expect(h.hosts).toHaveLength(2);
  });

  it('a discovery that keeps failing spends the restart budget and disables it, nothing remembered', async () => {
    const { h, tools } = discovering();
    const booted = h.plugin.boot();
    await h.settle();
    h.host.failStart('exited during start (code 1)');
    await booted;
    for (const backoff of [100, 200, 400]) {
      await h.advance(backoff);
      h.host.failStart('exited during start (code 1)');
      await h.settle();
    }
    expect(h.hosts).toHaveLength(4);
    expect(h.state).toBe('disabled');
    expect(tools.get(NAME)).toBeUndefined();
    expect(h.plugin.mcpTools).toBeNull();
  });
});
