// The toolkit end to end, as an author and an operator use it, through the CLI: new → validate → test →
// pack → install into a running daemon's pluginsDir → running and answering → remove → gone.
// (Updating under load and rolling back are in update.test.ts, against a registry stand-in.)
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootDaemon, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { runCliAsync } from '../helpers/run-cli.js';
import { waitFor } from '../helpers/wait.js';

let sandbox: Sandbox | undefined;
let daemon: TestDaemon | undefined;
let author: string | undefined;

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
  if (author) rmSync(author, { recursive: true, force: true });
  sandbox = daemon = author = undefined;
});

const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => runCliAsync(args, { cwd, env });

describe('the plugin toolkit, end to end', () => {
  it('new → validate → test → pack → install → running under the daemon → remove', { timeout: 60_000 }, async () => {
    author = mkdtempSync(join(tmpdir(), 'warden-author-'));
    chmodSync(author, 0o755); // the plugin runs as another user behind the wall
    const made = await run(['plugin', 'new', 'hello-chain'], author);
    expect(made.status, made.stderr).toBe(0);
    const dir = join(author, 'hello-chain');

    const valid = await run(['plugin', 'validate', dir], author);
    expect(valid.status, valid.stdout + valid.stderr).toBe(0);
    const tested = await run(['plugin', 'test', dir], author);
    expect(tested.status, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/✓ example/);
    const packed = await run(['plugin', 'pack', dir, '--out', author, '--json'], author);
    expect(packed.status, packed.stderr).toBe(0);
    const { file, sha256 } = JSON.parse(packed.stdout) as { file: string; sha256: string };

    ({ sandbox, daemon } = await bootDaemon({ hotReload: { enabled: true, debounceMs: 100 } }, {}));
    const env = { WARDEN_CONFIG: sandbox.configPath };
    const installed = await run(['plugin', 'install', file, '--sha256', sha256], author, env);
    expect(installed.status, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`installed hello-chain 0.1.0 in ${join(sandbox.pluginsDir, 'hello-chain')}`);
    await daemon.waitForState('hello-chain', 'running');
    expect(await daemon.call('hello-chain', 'greet', { name: 'chain' })).toBe('Hello, chain!');
    await expect(daemon.call('hello-chain', 'greet', { name: 42 })).rejects.toMatchObject({ code: -32602 });

    const removed = await run(['plugin', 'remove', 'hello-chain'], author, env);
    expect(removed.status, removed.stderr).toBe(0);
    expect(existsSync(join(sandbox.pluginsDir, 'hello-chain'))).toBe(false);
    await waitFor('hello-chain to leave the daemon', async () => {
      const { plugins } = await daemon!.request<{ plugins: Array<{ name: string }> }>('status');
      return !plugins.some((p) => p.name === 'hello-chain');
    });
  });
});
