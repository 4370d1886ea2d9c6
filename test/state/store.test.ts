import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PermissionRequest } from '../../src/policies/approval.js';
import { StateStore } from '../../src/state/store.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'warden-state-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

describe('StateStore', () => {
  it('names its file and starts empty when there is none', async () => {
    const s = new StateStore(root);
    expect(s.file).toBe(join(root, 'state.json'));
    expect(await s.load()).toEqual({ version: 1, plugins: {} });
    expect(s.loadWarnings()).toEqual([]);
    expect(s.get('x')).toBeUndefined();
  });

  it('round-trips disable and enable', async () => {
    const s = new StateStore(root);
    await s.load();
    await s.setDisabled('feed', '6 failures in 60s; last: exit code 1');
    const e = s.get('feed')!;
    expect(e.disabled).toBe(true);
    expect(e.reason).toBe('6 failures in 60s; last: exit code 1');
    expect(new Date(e.since!).toISOString()).toBe(e.since);
    expect(await readJson(s.file)).toEqual({ version: 1, plugins: { feed: e } });

    await s.clearDisabled('feed');
    expect(s.get('feed')).toBeUndefined();
    expect(await readJson(s.file)).toEqual({ version: 1, plugins: {} });
    await s.clearDisabled('never-disabled'); // no-op
  });

  it('persists across new instances', async () => {
    const a = new StateStore(root);
    await a.load();
    await a.setDisabled('one', 'by operator');
    await a.setDisabled('two', 'crash loop');
    await a.clearDisabled('one');

    const b = new StateStore(root);
    const loaded = await b.load();
    expect(Object.keys(loaded.plugins)).toEqual(['two']);
    expect(b.get('two')).toMatchObject({ disabled: true, reason: 'crash loop' });
    expect(b.get('one')).toBeUndefined();
  });

  it('the result of load() is a copy', async () => {
    const s = new StateStore(root);
    const st = await s.load();
    st.plugins['x'] = { disabled: true, reason: 'r', since: null, grant: null };
    expect(s.get('x')).toBeUndefined();
    await s.setDisabled('y', 'r');
    s.get('y')!.disabled = false;
    expect(s.get('y')!.disabled).toBe(true);
  });

  it('creates stateDir recursively', async () => {
    const dir = join(root, 'a', 'b', 'c');
    const s = new StateStore(dir);
    await s.load();
    await s.setDisabled('p', 'r');
    expect(await readJson(join(dir, 'state.json'))).toMatchObject({ version: 1, plugins: { p: { disabled: true } } });
  });

  it('mutations before load() load first and keep what is on disk', async () => {
    const a = new StateStore(root);
    await a.setDisabled('old', 'r1');
    const b = new StateStore(root);
    await b.setDisabled('new', 'r2'); // no explicit load
    const c = new StateStore(root);
    expect(Object.keys((await c.load()).plugins).sort()).toEqual(['new', 'old']);
  });

  for (const [label, content] of [
    ['invalid JSON', '{"version": 1, "plugins": {'],
    ['a non-object', '[1,2,3]'],
    ['an unknown version', '{"version": 2, "plugins": {}}'],
    ['plugins not an object', '{"version": 1, "plugins": 5}'],
    ['an empty file', ''],
  ] as const) {
    it(`handles a corrupt file (${label}): empty state, file moved aside, warning`, async () => {
      await writeFile(join(root, 'state.json'), content);
      const s = new StateStore(root);
      expect(await s.load()).toEqual({ version: 1, plugins: {} });
      const warnings = s.loadWarnings();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('state.json.corrupt-');
      const files = await readdir(root);
      expect(files).not.toContain('state.json');
      const aside = files.filter((f) => f.startsWith('state.json.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(await readFile(join(root, aside[0]!), 'utf8')).toBe(content);

      // And it carries on normally afterwards.
      await s.setDisabled('p', 'r');
      expect(await readJson(s.file)).toMatchObject({ plugins: { p: { disabled: true } } });
      const again = new StateStore(root);
      await again.load();
      expect(again.loadWarnings()).toEqual([]);
    });
  }

  it('drops only malformed entries, with a warning', async () => {
    await writeFile(
      join(root, 'state.json'),
      JSON.stringify({
        version: 1,
        plugins: {
          good: { disabled: true, reason: 'r', since: '2024-01-01T00:00:00.000Z' },
          bad: { disabled: 'yes' },
          worse: 7,
        },
      }),
    );
    const s = new StateStore(root);
    const st = await s.load();
    expect(Object.keys(st.plugins)).toEqual(['good']);
    expect(s.loadWarnings()).toHaveLength(2);
    expect((await readdir(root)).some((f) => f.includes('corrupt'))).toBe(false);
  });

  it('treats "__proto__" as an ordinary plugin name', async () => {
    const s = new StateStore(root);
    await s.setDisabled('__proto__', 'odd');
    const t = new StateStore(root);
    await t.load();
    expect(t.get('__proto__')).toMatchObject({ disabled: true, reason: 'odd' });
    expect(t.get('toString')).toBeUndefined();
  });

  it('concurrent setDisabled calls all land, and the file is valid JSON throughout', async () => {
    const s = new StateStore(root);
    await s.load();
    const names = Array.from({ length: 50 }, (_, i) => `plugin-${i}`);

    // Read the file continuously while the writes happen: it must always parse.
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        try {
          const text = await readFile(s.file, 'utf8');
          JSON.parse(text); // throws on a torn file
          reads++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();

    await Promise.all(names.map((n, i) => s.setDisabled(n, `reason ${i}`)));
    // After each resolved write the file includes that write.
    for (const n of names.slice(0, 10)) {
      await s.clearDisabled(n);
      const disk = (await readJson(s.file)) as { plugins: Record<string, unknown> };
      expect(disk.plugins[n]).toBeUndefined();
    }
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);

    const disk = (await readJson(s.file)) as { plugins: Record<string, unknown> };
    expect(Object.keys(disk.plugins).sort()).toEqual(names.slice(10).sort());
    const fresh = new StateStore(root);
    expect(Object.keys((await fresh.load()).plugins)).toHaveLength(40);
    // No temp files left behind.
    expect(await readdir(root)).toEqual(['state.json']);
  });

  it('coalesces concurrent flushes and the last state wins', async () => {
    const s = new StateStore(root);
    await s.load();
    const p1 = s.setDisabled('a', 'first');
    const p2 = s.setDisabled('a', 'second');
    const p3 = s.setDisabled('a', 'third');
    await Promise.all([p1, p2, p3]);
    expect(((await readJson(s.file)) as { plugins: { a: { reason: string } } }).plugins.a.reason).toBe('third');
  });

  it('a failed write rejects, and later writes still work', async () => {
    // A regular file where stateDir's parent should be: mkdir fails (ENOTDIR), even as root.
    const blocker = join(root, 'blocker');
    const s = new StateStore(join(blocker, 'state'));
    await s.load();
    await writeFile(blocker, 'x');
    await expect(s.setDisabled('p', 'r')).rejects.toThrow();
    await rm(blocker);
    await s.setDisabled('q', 'r');
    expect(Object.keys(((await readJson(s.file)) as { plugins: object }).plugins).sort()).toEqual(['p', 'q']);
  });
});

describe('StateStore grants', () => {
  const request = (extra: Partial<PermissionRequest> = {}): PermissionRequest => ({
    network: true,
    childProcess: false,
    env: ['FEED_TOKEN'],
    fs: { read: ['/srv/data'], write: [] },
    ...extra,
  });

  it('round-trips a grant, on its own entry, and reloads it from disk', async () => {
    const s = new StateStore(root);
    expect(s.getGrant('feed')).toBeNull();
    await s.setGrant('feed', request(), '1.2.0');
    const g = s.getGrant('feed')!;
    expect(g).toMatchObject({ request: request(), version: '1.2.0' });
    expect(new Date(g.at).toISOString()).toBe(g.at);
    // Granted, not disabled.
    expect(s.get('feed')).toEqual({ disabled: false, reason: null, since: null, grant: g });
    expect(await readJson(s.file)).toEqual({ version: 1, plugins: { feed: { disabled: false, reason: null, since: null, grant: g } } });

    const fresh = new StateStore(root);
    await fresh.load();
    expect(fresh.loadWarnings()).toEqual([]);
    expect(fresh.getGrant('feed')).toEqual(g);
    expect(fresh.get('feed')?.disabled).toBe(false);
  });

  it('a new grant replaces the old one', async () => {
    const s = new StateStore(root);
    await s.setGrant('feed', request(), '1.0.0');
    await s.setGrant('feed', request({ network: false, env: [] }), '2.0.0');
    expect(s.getGrant('feed')).toMatchObject({ request: request({ network: false, env: [] }), version: '2.0.0' });
  });

  it('disabling and enabling keep the grant; revoking keeps the disabled flag', async () => {
    const s = new StateStore(root);
    await s.setGrant('feed', request(), '1.2.0');
    await s.setDisabled('feed', 'by operator');
    expect(s.get('feed')).toMatchObject({ disabled: true, reason: 'by operator', grant: { version: '1.2.0' } });
    await s.clearDisabled('feed');
    expect(s.get('feed')).toMatchObject({ disabled: false, reason: null, since: null, grant: { version: '1.2.0' } });

    await s.setDisabled('feed', 'crash loop');
    await s.clearGrant('feed');
    expect(s.getGrant('feed')).toBeNull();
    expect(s.get('feed')).toMatchObject({ disabled: true, reason: 'crash loop', grant: null });

    const fresh = new StateStore(root);
    await fresh.load();
    expect(fresh.get('feed')).toMatchObject({ disabled: true, reason: 'crash loop', grant: null });
  });

  it('an entry that records nothing any more is removed', async () => {
    const s = new StateStore(root);
    await s.setGrant('a', request(), '1.0.0');
    await s.clearGrant('a');
    await s.setDisabled('b', 'r');
    await s.setGrant('b', request(), '1.0.0');
    await s.clearGrant('b');
    await s.clearDisabled('b');
    expect(s.get('a')).toBeUndefined();
    expect(s.get('b')).toBeUndefined();
    expect(await readJson(s.file)).toEqual({ version: 1, plugins: {} });
    await s.clearGrant('never-granted'); // no-op
    await s.clearDisabled('a'); // no-op
  });

  it('getGrant and get return copies', async () => {
    const s = new StateStore(root);
    const asked = request();
    await s.setGrant('feed', asked, '1.0.0');
    asked.env.push('LATER');
    s.getGrant('feed')!.request.fs.read.push('/etc');
    s.get('feed')!.grant!.request.env.push('MORE');
    expect(s.getGrant('feed')!.request).toEqual(request());
  });

  it('reads a file from before grants: entries without "grant" load with grant null', async () => {
    await writeFile(
      join(root, 'state.json'),
      JSON.stringify({ version: 1, plugins: { old: { disabled: true, reason: 'r', since: '2024-01-01T00:00:00.000Z' } } }),
    );
    const s = new StateStore(root);
    await s.load();
    expect(s.loadWarnings()).toEqual([]);
    expect(s.get('old')).toEqual({ disabled: true, reason: 'r', since: '2024-01-01T00:00:00.000Z', grant: null });
    expect(s.getGrant('old')).toBeNull();
    await s.setGrant('old', request(), '1.0.0');
    expect(s.get('old')).toMatchObject({ disabled: true, reason: 'r', grant: { version: '1.0.0' } });
  });

  it('a malformed grant costs only the grant, with a warning', async () => {
    await writeFile(
      join(root, 'state.json'),
      JSON.stringify({
        version: 1,
        plugins: {
          off: { disabled: true, reason: 'r', since: null, grant: { request: { network: 'yes' }, version: '1.0.0', at: 'x' } },
          bare: { disabled: false, reason: null, since: null, grant: { version: 1 } },
          fine: { disabled: false, reason: null, since: null, grant: { request: request(), version: '1.0.0', at: '2024-01-01T00:00:00.000Z' } },
        },
      }),
    );
    const s = new StateStore(root);
    await s.load();
    expect(s.loadWarnings()).toHaveLength(2);
    expect(s.loadWarnings()[0]).toContain('ignored malformed grant for plugin "off"');
    expect(s.get('off')).toMatchObject({ disabled: true, grant: null });
    expect(s.get('bare')).toBeUndefined();
    expect(s.getGrant('fine')?.request).toEqual(request());
    expect((await readdir(root)).some((f) => f.includes('corrupt'))).toBe(false);
  });

  it('concurrent grants, revokes and disables all land', async () => {
    const s = new StateStore(root);
    await s.load();
    const names = Array.from({ length: 20 }, (_, i) => `plugin-${i}`);
    await Promise.all(names.flatMap((n, i) => [s.setGrant(n, request(), `1.0.${i}`), s.setDisabled(n, `reason ${i}`)]));
    await Promise.all(names.slice(0, 5).map((n) => s.clearGrant(n)));
    const fresh = new StateStore(root);
    await fresh.load();
    for (const [i, n] of names.entries()) {
      expect(fresh.get(n)).toMatchObject({ disabled: true, reason: `reason ${i}` });
      expect(fresh.getGrant(n)?.version ?? null).toBe(i < 5 ? null : `1.0.${i}`);
    }
    expect(await readdir(root)).toEqual(['state.json']);
  });
});
