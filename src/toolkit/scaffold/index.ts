/** `warden plugin new`: a plugin folder that works as generated, in JavaScript, TypeScript or Python. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PLUGIN_KINDS } from '../../manifest/schema.js';
import { PLUGIN_NAME_RE } from '../../protocol/index.js';
import { PACKAGE_ROOT } from '../../version.js';
import type { Lang, ScaffoldContext } from './common.js';
import { javascriptFiles } from './javascript.js';
import { pythonFiles } from './python.js';
import { typescriptFiles } from './typescript.js';

export type { Lang } from './common.js';
export const LANGS: readonly Lang[] = ['js', 'ts', 'python'];

/** The request was refused before anything was written (bad name, kind or language, a non-empty folder). */
export class ScaffoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScaffoldError';
  }
}

export interface ScaffoldOptions {
  name: string;
  lang?: Lang;
  kind?: string;
  /** Where to write (default ./NAME). */
  dir?: string;
}

export interface ScaffoldResult {
  dir: string;
  /** Written files, relative to dir, in writing order (dist/index.js last for ts when built). */
  files: string[];
  /** TypeScript only: whether dist/ was built, and how or why not. */
  build: { ran: boolean; ok: boolean; detail: string } | null;
}

/** Writes the plugin folder; throws ScaffoldError, before writing anything, when the request cannot be met. */
export async function scaffoldPlugin(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  const lang = options.lang ?? 'js';
  const kind = options.kind ?? 'service';
  if (!PLUGIN_NAME_RE.test(name)) {
    throw new ScaffoldError(`${JSON.stringify(name)} is not a plugin name: lowercase letters, digits and -, starting with a letter or a digit, at most 64 characters`);
  }
  if (!LANGS.includes(lang)) throw new ScaffoldError(`--lang must be one of ${LANGS.join(', ')}, got ${JSON.stringify(lang)}`);
  if (!(PLUGIN_KINDS as readonly string[]).includes(kind)) {
    throw new ScaffoldError(`--kind must be one of ${PLUGIN_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  const dir = path.resolve(options.dir ?? name);
  const present = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    if (err.code === 'ENOTDIR') throw new ScaffoldError(`${dir} exists and is not a folder`);
    throw err;
  });
  if (present.length > 0) throw new ScaffoldError(`${dir} is not empty (${present.length} entries); refusing to overwrite it: choose another --dir`);

  const ctx = contextFor(name, kind, lang, dir);
  const files = lang === 'js' ? javascriptFiles(ctx) : lang === 'ts' ? typescriptFiles(ctx) : pythonFiles(ctx);
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' });
  }
  if (lang === 'python') await chmod(path.join(dir, 'main.py'), 0o755);
  const written = Object.keys(files);
  const build = lang === 'ts' ? await buildTypeScript(dir) : null;
  if (build?.ok) written.push('dist/index.js');
  return { dir, files: written, build };
}

/** The templates' context: `$schema` relative when the folder lies inside this package, else absolute. */
function contextFor(name: string, kind: string, lang: Lang, dir: string): ScaffoldContext {
  const schema = path.join(PACKAGE_ROOT, 'schema', 'plugin.schema.json');
  const rel = path.relative(dir, schema);
  const inside = !path.relative(PACKAGE_ROOT, dir).startsWith('..');
  return {
    name,
    kind,
    lang,
    schemaRef: inside ? rel.split(path.sep).join('/') : schema,
    wardenRoot: PACKAGE_ROOT,
    sdkRegisterUrl: pathToFileURL(path.join(PACKAGE_ROOT, 'dist', 'sdk', 'register.js')).href,
  };
}

/**
 * The TypeScript compiler to build with: the folder's own node_modules/.bin/tsc, else the typescript
 * package this warden installation resolves; null when neither is there.
 */
export function findTypeScriptCompiler(dir: string): { file: string; viaNode: boolean } | null {
  const local = path.join(dir, 'node_modules', '.bin', 'tsc');
  if (existsSync(local)) return { file: local, viaNode: false };
  try {
    return { file: createRequire(import.meta.url).resolve('typescript/bin/tsc'), viaNode: true };
  } catch {
    return null;
  }
}

/** Runs `tsc -p tsconfig.json` once in dir, so the new folder validates as generated. */
async function buildTypeScript(dir: string): Promise<{ ran: boolean; ok: boolean; detail: string }> {
  const tsc = findTypeScriptCompiler(dir);
  if (!tsc) return { ran: false, ok: false, detail: 'no TypeScript compiler found: run `npm install && npm run build` in the folder' };
  const [file, args] = tsc.viaNode ? [process.execPath, [tsc.file, '-p', 'tsconfig.json']] : [tsc.file, ['-p', 'tsconfig.json']];
  return new Promise((resolve) => {
    execFile(file, args, { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) => {
      const detail = `${tsc.file} -p tsconfig.json`;
      if (!error) resolve({ ran: true, ok: true, detail });
      else resolve({ ran: true, ok: false, detail: `${detail} failed: ${`${stdout}${stderr}`.trim() || error.message}` });
    });
  });
}
