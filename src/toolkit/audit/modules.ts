/** Which JavaScript modules reach for what (docs/audit.md, "What the audit finds"), and which fs functions take paths. */
import type { Use } from './types.js';

type ModuleKind = Extract<Use['kind'], 'childProcess' | 'network' | 'dynamicCode' | 'nativeCode'>;

const MODULES: Readonly<Record<string, ModuleKind>> = {
  child_process: 'childProcess',
  worker_threads: 'childProcess',
  cluster: 'childProcess',
  net: 'network',
  http: 'network',
  https: 'network',
  http2: 'network',
  dgram: 'network',
  tls: 'network',
  dns: 'network',
  undici: 'network',
  ws: 'network',
  vm: 'dynamicCode',
  bindings: 'nativeCode',
  'node-gyp-build': 'nativeCode',
};

/** A specifier without `node:`, for comparing against the tables. */
export function bareSpecifier(spec: string): string {
  return spec.startsWith('node:') ? spec.slice(5) : spec;
}

/** The package part of a specifier: `dns/promises` is `dns`, `@a/b/c` is `@a/b`. */
function packageOf(spec: string): string {
  const parts = bareSpecifier(spec).split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** What loading `spec` gives a plugin, or null for a module the audit does not flag. */
export function moduleKind(spec: string): ModuleKind | null {
  if (spec.endsWith('.node')) return 'nativeCode';
  return MODULES[packageOf(spec)] ?? null;
}

/** Whether `spec` is Node's fs (callback and sync flavours) or fs/promises. */
export function isFsModule(spec: string): boolean {
  const bare = bareSpecifier(spec);
  return bare === 'fs' || bare === 'fs/promises';
}

/** How an fs function uses each path argument: 'r' read, 'w' write, 'o' open (its flags decide). */
type PathArgs = readonly ('r' | 'w' | 'o')[];

const FS_FUNCTIONS: Readonly<Record<string, PathArgs>> = {
  readFile: ['r'],
  readdir: ['r'],
  stat: ['r'],
  lstat: ['r'],
  statfs: ['r'],
  access: ['r'],
  exists: ['r'],
  opendir: ['r'],
  readlink: ['r'],
  realpath: ['r'],
  createReadStream: ['r'],
  watch: ['r'],
  watchFile: ['r'],
  glob: ['r'],
  open: ['o'],
  openAsBlob: ['r'],
  writeFile: ['w'],
  appendFile: ['w'],
  mkdir: ['w'],
  mkdtemp: ['w'],
  rm: ['w'],
  rmdir: ['w'],
  unlink: ['w'],
  chmod: ['w'],
  lchmod: ['w'],
  chown: ['w'],
  lchown: ['w'],
  truncate: ['w'],
  utimes: ['w'],
  lutimes: ['w'],
  createWriteStream: ['w'],
  rename: ['w', 'w'],
  copyFile: ['r', 'w'],
  cp: ['r', 'w'],
  link: ['r', 'w'],
  symlink: ['r', 'w'],
};

/** The path arguments of fs function `name` (with or without `Sync`), or null when it takes none. */
export function fsPathArgs(name: string): PathArgs | null {
  const base = name.endsWith('Sync') ? name.slice(0, -4) : name;
  return Object.hasOwn(FS_FUNCTIONS, base) ? FS_FUNCTIONS[base]! : null;
}
