/**
 * A plugin written outside this repository, with warden installed as an ordinary dependency
 * (node_modules/warden, unpacked from `npm pack`), imports `warden/sdk` and `warden` and runs with plain
 * `node index.js` — no loader hook, no daemon — and answers the handshake over stdio. A TypeScript author
 * gets the types through the same export map, compiles with tsc, and runs the .js.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureSdkBuilt, killAll, PluginProcess, ROOT } from './helpers.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let tmp: string;
/** tmp/author: the author's project, with node_modules/warden unpacked from the packed tarball. */
let author: string;
let packedFiles: string[];

/** dist/index.js (the "." export) is built too, not only the SDK. */
function ensureIndexBuilt(): void {
  ensureSdkBuilt();
  const src = join(ROOT, 'src', 'index.ts');
  const out = join(ROOT, 'dist', 'index.js');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return;
  spawnSync(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' });
  if (!existsSync(out)) throw new Error(`build did not produce ${out}`);
}

beforeAll(() => {
  ensureIndexBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'warden-standalone-'));
  // --ignore-scripts: no `prepare` rebuild; the tarball is exactly what `npm publish` would ship from dist/.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  ) as { filename: string; files: { path: string }[] }[];
  const tarball = join(tmp, packed[0]!.filename);
  packedFiles = packed[0]!.files.map((f) => f.path);
  author = join(tmp, 'author');
  const installed = join(author, 'node_modules', 'warden');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  writeFileSync(join(author, 'package.json'), JSON.stringify({ name: 'my-plugin', version: '1.0.0', type: 'module', dependencies: { warden: '^1.0.0' } }));
}, 120_000);
afterEach(killAll);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `node FILE` in `cwd` with no NODE_OPTIONS (no preload, no loader: what an author types). */
const plainNode = (file: string, cwd: string): PluginProcess => new PluginProcess('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, file], cwd);

describe('the packed package', () => {
  it('ships every file its export map, bin and types point at', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, string>>;
      bin: Record<string, string>;
      types: string;
    };
    const targets = [
      ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))),
      ...Object.values(pkg.bin),
      pkg.types,
    ].map((t) => t.replace(/^\.\//, ''));
    expect(targets).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/sdk/index.js', 'dist/sdk/index.d.ts']));
    for (const t of targets) expect(packedFiles, t).toContain(t);
  });
});

describe('a plugin outside the repository, run with plain node', () => {
  it('imports warden/sdk and warden and completes the handshake over stdio', async () => {
    writeFileSync(
      join(author, 'index.js'),
      `import { definePlugin, PluginError } from 'warden/sdk';
import * as warden from 'warden';

definePlugin({
  methods: {
    greet: ({ name }) => \`Hello, \${name}!\`,
    // 'warden' is the SDK too: the same module, not a second copy.
    same: () => warden.definePlugin === definePlugin && warden.PluginError === PluginError && typeof warden.ErrorCodes === 'object',
    fail: () => { throw new warden.PluginError('not today', 4242); },
  },
});
`,
    );
    expect(author.startsWith(ROOT)).toBe(false);
    const p = plainNode('index.js', author);
    expect(await p.initialize({ name: 'my-plugin', version: '1.0.0' })).toEqual({ methods: ['greet', 'same', 'fail'] });
    expect(await p.call('greet', { name: 'author' })).toBe('Hello, author!');
    expect(await p.call('same')).toBe(true);
    const failed = await p.request('fail', {});
    expect(failed.error).toMatchObject({ code: 4242, message: 'not today' });
    expect(await p.call('warden.health', {})).toBeDefined();
    // stdin closing ends it, as the protocol wants.
    p.child.stdin.end();
    expect((await p.waitExit()).code).toBe(0);
    expect(p.nonJson).toEqual([]);
    // Proof that nothing resolved warden/sdk from this checkout: the module loaded is the installed copy.
    expect(p.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it('resolves both specifiers to the installed package, not this checkout', () => {
    const script = `console.log(JSON.stringify([import.meta.resolve('warden'), import.meta.resolve('warden/sdk')]))`;
    const out = execFileSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', script], { cwd: author, encoding: 'utf8' });
    const installed = `file://${join(author, 'node_modules', 'warden', 'dist')}`;
    expect(JSON.parse(out)).toEqual([`${installed}/index.js`, `${installed}/sdk/index.js`]);
  });

  it('a TypeScript author gets the types (strict tsc, NodeNext), compiles, and runs the .js', async () => {
    const ts = join(author, 'ts');
    mkdirSync(join(ts, 'src'), { recursive: true });
    writeFileSync(join(ts, 'package.json'), JSON.stringify({ type: 'module' }));
    // skipLibCheck as \`tsc --init\` sets it: the package's deeper .d.ts files name its dependencies' types
    // (zod), which a real install brings and this bare unpacked copy does not.
    const tsconfig = (include: string[]) =>
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', rootDir: 'src', types: [], skipLibCheck: true },
        include,
      });
    writeFileSync(
      join(ts, 'src', 'index.ts'),
      `import { definePlugin, PluginError, type PluginContext } from 'warden/sdk';
import type { Manifest, PluginStatus } from 'warden';

const kinds: Manifest['kind'][] = ['connector', 'service'];
const circuit: PluginStatus['circuit'] = 'closed';

definePlugin({
  init(ctx: PluginContext) {
    ctx.log.info('typed', { kinds, circuit });
  },
  methods: {
    add: ({ a, b }: { a: number; b: number }): number => {
      if (typeof a !== 'number' || typeof b !== 'number') throw new PluginError('add needs {a, b}', -32602);
      return a + b;
    },
  },
});
`,
    );
    writeFileSync(join(ts, 'tsconfig.json'), tsconfig(['src/index.ts']));
    const ok = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ts, encoding: 'utf8' });
    expect({ status: ok.status, output: `${ok.stdout}${ok.stderr}` }).toEqual({ status: 0, output: '' });

    // The types are real, not `any`: a wrong definition does not compile.
    writeFileSync(join(ts, 'src', 'wrong.ts'), `import { definePlugin } from 'warden';\ndefinePlugin({ methods: 42 });\n`);
    writeFileSync(join(ts, 'tsconfig.wrong.json'), tsconfig(['src/wrong.ts']));
    const wrong = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.wrong.json', '--noEmit'], { cwd: ts, encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toMatch(/src\/wrong\.ts\(2,\d+\): error TS2322/);

    const p = plainNode('dist/index.js', ts);
    expect(await p.initialize()).toEqual({ methods: ['add'] });
    expect(await p.call('add', { a: 2, b: 3 })).toBe(5);
    expect((await p.request('add', {})).error).toMatchObject({ code: -32602 });
  }, 60_000);
});
