import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_BYTES, ToolMemory } from '../../src/state/tool-memory.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tools-'));
  dirs.push(dir);
  return dir;
};
const ADD = { name: 'add', description: 'Adds.', inputSchema: { type: 'object' } };

describe('ToolMemory', () => {
  it('remembers a tool list per plugin and version, and reads it back after a restart', async () => {
    const dir = stateDir();
    const memory = new ToolMemory(dir);
    memory.remember('calc', '1.0.0', [ADD]);
    await memory.flush();
    expect(JSON.parse(readFileSync(join(dir, 'mcp-tools/calc.json'), 'utf8'))).toMatchObject({ version: '1.0.0', tools: [ADD] });
    const again = new ToolMemory(dir);
    expect(await again.load()).toEqual([]);
    expect(again.get('calc')).toMatchObject({ version: '1.0.0', tools: [ADD] });
    expect(again.get('other')).toBeUndefined();
  });

  it('writes only what changed, the last list winning', async () => {
    const dir = stateDir();
    const memory = new ToolMemory(dir);
    memory.remember('calc', '1.0.0', [ADD]);
    await memory.flush();
    const at = JSON.parse(readFileSync(join(dir, 'mcp-tools/calc.json'), 'utf8')).at;
    memory.remember('calc', '1.0.0', [ADD]);
    memory.remember('calc', '1.1.0', [ADD, { name: 'sub' }]);
    memory.remember('calc', '1.2.0', [{ name: 'mul' }]);
    await memory.flush();
    const written = JSON.parse(readFileSync(join(dir, 'mcp-tools/calc.json'), 'utf8'));
    expect(written).toMatchObject({ version: '1.2.0', tools: [{ name: 'mul' }] });
    expect(typeof at).toBe('string');
  });

  it('compares nothing when handed the list it last remembered (every start and stop hands it again)', () => {
    let serialised = 0;
    const counted = { name: 'add', toJSON: () => (serialised++, { name: 'add' }) };
    const memory = new ToolMemory(null);
    const list = [counted];
    memory.remember('calc', '1.0.0', list);
    memory.remember('calc', '1.0.0', list);
    memory.remember('calc', '1.0.0', list);
    expect(serialised).toBe(0);
    memory.remember('calc', '1.0.0', [counted]); // a new list with the same tools: compared, not written
    expect(serialised).toBe(2);
    memory.remember('calc', '1.1.0', list); // the same list at a new version is news
    expect(memory.get('calc')?.version).toBe('1.1.0');
  });

  it('drops a file that is not a tool list, saying so', async () => {
    const dir = stateDir();
    mkdirSync(join(dir, 'mcp-tools'));
    writeFileSync(join(dir, 'mcp-tools/torn.json'), '{"version":');
    writeFileSync(join(dir, 'mcp-tools/odd.json'), JSON.stringify({ version: '1.0.0', at: 'x', tools: [{ nope: 1 }] }));
    const memory = new ToolMemory(dir);
    const warnings = await memory.load();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/not a remembered tool list; removed/);
    expect(readdirSync(join(dir, 'mcp-tools'))).toEqual([]);
    expect(memory.get('torn')).toBeUndefined();
  });

  it('keeps an oversized list in memory only, and reports a write that fails', async () => {
    const dir = stateDir();
    const problems: string[] = [];
    const memory = new ToolMemory(dir, (m) => problems.push(m));
    const huge = [{ name: 'big', description: 'x'.repeat(MAX_REMEMBERED_BYTES) }];
    memory.remember('big', '1.0.0', huge);
    await memory.flush();
    expect(memory.get('big')?.tools).toEqual(huge);
    expect(problems[0]).toMatch(/over 4194304 bytes: remembered until the daemon stops/);

    writeFileSync(join(dir, 'blocked'), '');
    const blocked = new ToolMemory(join(dir, 'blocked'), (m) => problems.push(m));
    blocked.remember('calc', '1.0.0', [ADD]);
    await blocked.flush();
    expect(problems[1]).toMatch(/could not remember calc's tools/);
    expect(blocked.get('calc')?.version).toBe('1.0.0');
  });

  it('persists nothing without a state dir', async () => {
    const memory = new ToolMemory(null);
    expect(await memory.load()).toEqual([]);
    memory.remember('calc', '1.0.0', [ADD]);
    await memory.flush();
    expect(memory.get('calc')?.tools).toEqual([ADD]);
  });
});
