/** The JavaScript half of `warden plugin audit` (docs/audit.md): one file's uses, read from acorn's syntax tree. */
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bareSpecifier, fsPathArgs, isFsModule, moduleKind } from './modules.js';
import type { Use } from './types.js';

type N = acorn.AnyNode;

/** A name bound to a module (`member` null) or to one export of it. */
interface Binding {
  module: string;
  member: string | null;
}

/** What the walk needs to know about the file. */
interface Context {
  file: string;
  root: string;
  bindings: Map<string, Binding>;
  /** `require` and whatever `createRequire(...)` was assigned to. */
  requireNames: Set<string>;
  uses: Use[];
}

export type JsResult = { ok: true; uses: Use[] } | { ok: false; line: number; message: string };

/** Parses as a module first, then as a script (CommonJS may use what modules forbid, like `with`). */
export function parseJavaScript(source: string): { ok: true; ast: acorn.Program } | { ok: false; line: number; message: string } {
  const base: acorn.Options = { ecmaVersion: 'latest', allowHashBang: true, locations: true };
  try {
    return { ok: true, ast: acorn.parse(source, { ...base, sourceType: 'module', allowAwaitOutsideFunction: true }) };
  } catch (moduleError) {
    try {
      return { ok: true, ast: acorn.parse(source, { ...base, sourceType: 'script', allowReturnOutsideFunction: true }) };
    } catch {
      const err = moduleError as SyntaxError & { loc?: { line: number } };
      return { ok: false, line: err.loc?.line ?? 0, message: err.message };
    }
  }
}

/** Every use in one file; `file` is absolute, `root` the plugin folder that relative paths are taken against. */
export function analyzeJavaScript(source: string, file: string, root: string): JsResult {
  const parsed = parseJavaScript(source);
  if (!parsed.ok) return parsed;
  const ctx: Context = { file, root, bindings: new Map(), requireNames: new Set(['require']), uses: [] };
  walk.fullAncestor(parsed.ast, (node) => collectBinding(node, ctx));
  walk.fullAncestor(parsed.ast, (node, _state, ancestors) => visit(node, ancestors, ctx));
  return { ok: true, uses: ctx.uses };
}

/** A string the expression always is: a literal, or a template without substitutions. */
function constantString(node: N | null | undefined): string | null {
  if (!node) return null;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? null;
  return null;
}

/** The name of a non-computed (or constant computed) property. */
function propertyName(node: acorn.MemberExpression): string | null {
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  return node.computed ? constantString(node.property as N) : null;
}

/** The module a `require('m')`-like call loads, or null. */
function requiredModule(node: N, ctx: Context): string | null {
  if (node.type === 'AwaitExpression') return requiredModule(node.argument, ctx);
  if (node.type === 'ImportExpression') return constantString(node.source);
  if (node.type !== 'CallExpression' || node.callee.type !== 'Identifier' || !ctx.requireNames.has(node.callee.name)) return null;
  return constantString(node.arguments[0] as N | undefined);
}

/** Records the names bound to modules (first pass), so calls through them are recognised. */
function collectBinding(node: N, ctx: Context): void {
  if (node.type === 'ImportDeclaration') {
    const module = bareSpecifier(String(node.source.value));
    for (const s of node.specifiers) {
      const member = s.type === 'ImportSpecifier' ? (s.imported.type === 'Identifier' ? s.imported.name : String(s.imported.value)) : null;
      ctx.bindings.set(s.local.name, fsPromises(module, member));
    }
    return;
  }
  if (node.type !== 'VariableDeclarator' || !node.init) return;
  const init = node.init;
  if (init.type === 'CallExpression' && node.id.type === 'Identifier') {
    const callee = init.callee;
    const name = callee.type === 'Identifier' ? callee.name : callee.type === 'MemberExpression' ? propertyName(callee) : null;
    if (name === 'createRequire') ctx.requireNames.add(node.id.name);
  }
  let module = requiredModule(init, ctx);
  let member: string | null = null;
  if (module === null && init.type === 'MemberExpression') {
    module = requiredModule(init.object, ctx);
    member = propertyName(init);
  }
  if (module === null) return;
  module = bareSpecifier(module);
  if (node.id.type === 'Identifier') ctx.bindings.set(node.id.name, fsPromises(module, member));
  else if (node.id.type === 'ObjectPattern' && member === null) {
    for (const p of node.id.properties) {
      if (p.type !== 'Property' || p.value.type !== 'Identifier') continue;
      const key = p.computed ? constantString(p.key) : p.key.type === 'Identifier' ? p.key.name : constantString(p.key);
      if (key !== null) ctx.bindings.set(p.value.name, fsPromises(module, key));
    }
  }
}

/** `promises` of fs is fs/promises as a whole. */
function fsPromises(module: string, member: string | null): Binding {
  return module === 'fs' && member === 'promises' ? { module: 'fs/promises', member: null } : { module, member };
}

/** Looks at one node (second pass); `ancestors` ends with the node itself. */
function visit(node: N, ancestors: N[], ctx: Context): void {
  const line = node.loc?.start.line ?? 0;
  const add = (kind: Exclude<Use['kind'], 'env' | 'fs'>, detail: string) => ctx.uses.push({ kind, line, detail });
  const moduleUse = (spec: string, how: string) => {
    const kind = moduleKind(spec);
    if (kind) add(kind, `${how} ${JSON.stringify(spec)}`);
  };
  switch (node.type) {
    case 'ImportDeclaration':
    case 'ExportAllDeclaration':
    case 'ExportNamedDeclaration':
      if (node.source) moduleUse(String(node.source.value), node.type === 'ImportDeclaration' ? 'imports' : 're-exports');
      return;
    case 'ImportExpression': {
      const spec = constantString(node.source);
      if (spec === null) add('dynamicCode', 'import() with a computed specifier');
      else moduleUse(spec, 'import()');
      return;
    }
    case 'CallExpression':
    case 'NewExpression':
      return visitCall(node, line, ctx, add, moduleUse);
    case 'MemberExpression':
      return visitProcess(node, ancestors, line, ctx, add);
  }
}

/** Calls: require, eval and Function, fetch and WebSocket, and the fs functions with their path. */
function visitCall(
  node: acorn.CallExpression | acorn.NewExpression,
  line: number,
  ctx: Context,
  add: (kind: Exclude<Use['kind'], 'env' | 'fs'>, detail: string) => void,
  moduleUse: (spec: string, how: string) => void,
): void {
  const callee = node.callee;
  const global = globalName(callee);
  if (callee.type === 'Identifier' && ctx.requireNames.has(callee.name) && node.type === 'CallExpression') {
    const spec = constantString(node.arguments[0] as N | undefined);
    if (spec === null) add('dynamicCode', `${callee.name}() with a computed module name`);
    else moduleUse(spec, `${callee.name}s`);
    return;
  }
  if (global === 'eval') return add('dynamicCode', 'eval()');
  if (global === 'Function') return add('dynamicCode', `${node.type === 'NewExpression' ? 'new ' : ''}Function()`);
  if (global === 'fetch') return add('network', 'fetch()');
  if (global === 'WebSocket') return add('network', 'WebSocket');
  const fs = fsFunction(callee, ctx);
  if (fs === null) return;
  const args = fsPathArgs(fs);
  if (args === null) return;
  args.forEach((mode, i) => {
    const arg = node.arguments[i] as N | undefined;
    if (!arg || arg.type === 'SpreadElement') return;
    const write = mode === 'w' || (mode === 'o' && /[wa+]/.test(constantString(node.arguments[i + 1] as N | undefined) ?? ''));
    const p = staticPath(arg, ctx);
    const detail = p === null ? `fs ${fs}() with a computed path` : `fs ${fs}(${JSON.stringify(p)})`;
    ctx.uses.push({ kind: 'fs', line, detail, path: p, write });
  });
}

/** `X`, `globalThis.X`, `global.X` or `window.X` as the name of a global, else null. */
function globalName(node: N): string | null {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && node.object.type === 'Identifier' && ['globalThis', 'global', 'window', 'self'].includes(node.object.name)) {
    return propertyName(node);
  }
  return null;
}

/** The fs function a callee names through a binding to fs (`fs.readFile`, `readFile`, `fs.promises.readFile`), or null. */
function fsFunction(callee: N, ctx: Context): string | null {
  if (callee.type === 'Identifier') {
    const b = ctx.bindings.get(callee.name);
    return b && isFsModule(b.module) && b.member !== null ? b.member : null;
  }
  if (callee.type !== 'MemberExpression') return null;
  const name = propertyName(callee);
  if (name === null) return null;
  const obj = callee.object;
  if (obj.type === 'Identifier') {
    const b = ctx.bindings.get(obj.name);
    return b && isFsModule(b.module) && b.member === null ? name : null;
  }
  if (obj.type === 'MemberExpression' && obj.object.type === 'Identifier' && propertyName(obj) === 'promises') {
    const b = ctx.bindings.get(obj.object.name);
    return b && b.module === 'fs' && b.member === null ? name : null;
  }
  const required = requiredModule(obj as N, ctx);
  return required !== null && isFsModule(required) ? name : null;
}

/** `process.env…`, `process.binding`, `process._linkedBinding` and `process.dlopen`. */
function visitProcess(
  node: acorn.MemberExpression,
  ancestors: N[],
  line: number,
  ctx: Context,
  add: (kind: Exclude<Use['kind'], 'env' | 'fs'>, detail: string) => void,
): void {
  if (node.object.type !== 'Identifier' || node.object.name !== 'process') return;
  const name = propertyName(node);
  if (name === 'binding' || name === '_linkedBinding') return add('processBinding', `process.${name}`);
  if (name === 'dlopen') return add('nativeCode', 'process.dlopen');
  if (name !== 'env') return;
  const parent = ancestors[ancestors.length - 2];
  const env = (n: string, detail: string): void => {
    ctx.uses.push({ kind: 'env', line, detail, name: n });
  };
  if (parent?.type === 'MemberExpression' && parent.object === node) {
    const key = propertyName(parent);
    if (key === null) return add('envAll', 'process.env[…] with a computed name');
    return env(key, parent.computed ? `process.env[${JSON.stringify(key)}]` : `process.env.${key}`);
  }
  if (parent?.type === 'BinaryExpression' && parent.operator === 'in' && parent.right === node) {
    const key = constantString(parent.left as N);
    if (key !== null) return env(key, `${JSON.stringify(key)} in process.env`);
  }
  if (parent?.type === 'VariableDeclarator' && parent.init === node && parent.id.type === 'ObjectPattern') {
    for (const p of parent.id.properties) {
      const key = p.type === 'RestElement' ? null : p.computed ? constantString(p.key) : p.key.type === 'Identifier' ? p.key.name : constantString(p.key);
      if (key === null) add('envAll', 'process.env destructured with a rest or computed name');
      else env(key, `{ ${key} } = process.env`);
    }
    return;
  }
  add('envAll', 'process.env as a whole');
}

/**
 * The path an expression always is, or null when computed: constants, `__dirname`, `__filename`,
 * `import.meta.dirname|filename`, `path.join|resolve|dirname` of those, and `new URL(constant, import.meta.url)`.
 */
function staticPath(node: N, ctx: Context): string | null {
  const s = constantString(node);
  if (s !== null) return s.startsWith('file:') ? safeFileUrl(s) : s;
  if (node.type === 'Identifier') return node.name === '__dirname' ? path.dirname(ctx.file) : node.name === '__filename' ? ctx.file : null;
  if (node.type === 'MemberExpression' && node.object.type === 'MetaProperty') {
    const name = propertyName(node);
    return name === 'dirname' ? path.dirname(ctx.file) : name === 'filename' ? ctx.file : null;
  }
  if (node.type === 'NewExpression' && node.callee.type === 'Identifier' && node.callee.name === 'URL') {
    const rel = constantString(node.arguments[0] as N | undefined);
    const base = node.arguments[1] as N | undefined;
    const isMetaUrl = base?.type === 'MemberExpression' && base.object.type === 'MetaProperty' && propertyName(base) === 'url';
    return rel !== null && isMetaUrl ? path.resolve(path.dirname(ctx.file), rel) : null;
  }
  if (node.type !== 'CallExpression') return null;
  const fn = pathFunction(node.callee, ctx);
  if (fn === 'fileURLToPath') return staticPath(node.arguments[0] as N, ctx);
  if (fn !== 'join' && fn !== 'resolve' && fn !== 'dirname') return null;
  const parts: string[] = [];
  for (const a of node.arguments) {
    const p = a.type === 'SpreadElement' ? null : staticPath(a, ctx);
    if (p === null) return null;
    parts.push(p);
  }
  if (fn === 'dirname') return parts[0] === undefined ? null : path.dirname(parts[0]);
  return fn === 'join' ? path.join(...parts) : path.resolve(ctx.root, ...parts);
}

/** The function of `path` or `url` a callee names (`path.join`, `join`, `fileURLToPath`), or null. */
function pathFunction(callee: N, ctx: Context): string | null {
  const fromModule = (b: Binding | undefined) => b !== undefined && ['path', 'url'].includes(b.module);
  if (callee.type === 'Identifier') {
    const b = ctx.bindings.get(callee.name);
    return fromModule(b) ? b!.member : null;
  }
  if (callee.type === 'MemberExpression' && callee.object.type === 'Identifier') {
    const b = ctx.bindings.get(callee.object.name);
    return fromModule(b) && b!.member === null ? propertyName(callee) : null;
  }
  return null;
}

/** A file: URL as a path, or null when it is not one. */
function safeFileUrl(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}
