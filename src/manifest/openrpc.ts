/**
 * A plugin's methods described (`plugin.describe`), and every running plugin's methods as one OpenRPC
 * document (`rpc.discover`, https://spec.open-rpc.org, version 1.3.2). Pure: the caller gathers the facts.
 */
import type { McpTool, MethodDescription, PluginDescription } from '../protocol/index.js';
import type { Manifest } from './types.js';

/** The OpenRPC version the document follows. */
export const OPENRPC_VERSION = '1.3.2';

/**
 * The manifest's described methods first (in its order), then those the running instance serves without a
 * description there, described by the server itself when it is an MCP server (its tools' schemas). An MCP
 * server asleep (`served` null) is described by the tools it listed at its last run, with `served` null.
 */
export function describeMethods(manifest: Manifest, served: readonly string[] | null, tools: readonly McpTool[] = []): MethodDescription[] {
  const described = Object.entries(manifest.methods).map(([name, spec]) => ({
    name,
    description: spec.description,
    params: spec.params ?? null,
    result: spec.result ?? null,
    examples: spec.examples,
    served: served ? served.includes(name) : null,
  }));
  const rest = (served ?? tools.map((t) => t.name))
    .filter((name) => !Object.hasOwn(manifest.methods, name))
    .sort()
    .map((name) => {
      const tool = tools.find((t) => t.name === name);
      return { name, description: tool?.description ?? '', params: tool?.inputSchema ?? null, result: tool?.outputSchema ?? null, examples: [], served: served ? true : null };
    });
  return [...described, ...rest];
}

type Schema = Record<string, unknown>;

// Why: an object schema with properties maps to by-name content descriptors, one per property.
function propertiesOf(schema: unknown): { properties: Record<string, unknown>; required: string[] } | null {
  if (schema === null || typeof schema !== 'object') return null;
  const s = schema as Schema;
  if (s['properties'] === null || typeof s['properties'] !== 'object') return null;
  return { properties: s['properties'] as Record<string, unknown>, required: Array.isArray(s['required']) ? (s['required'] as string[]) : [] };
}

// Why: one OpenRPC Method object; the full params schema also rides along as x-warden-params (a descriptor list cannot hold every JSON Schema).
function methodObject(plugin: string, method: MethodDescription): Schema {
  const shape = propertiesOf(method.params);
  const params = shape
    ? Object.entries(shape.properties).map(([name, schema]) => ({ name, schema: schema ?? {}, required: shape.required.includes(name) }))
    : [];
  const examples = method.examples
    .filter((e) => shape && e.params !== null && typeof e.params === 'object' && !Array.isArray(e.params))
    .map((e, i) => ({
      name: e.name ?? `example ${i + 1}`,
      params: Object.entries(e.params as Record<string, unknown>).map(([name, value]) => ({ name, value })),
      ...(e.result !== undefined ? { result: { name: 'result', value: e.result } } : {}),
    }));
  const summary = method.description.split('\n')[0]!;
  return {
    name: `${plugin}.${method.name}`,
    ...(summary ? { summary } : {}),
    ...(method.description ? { description: method.description } : {}),
    paramStructure: shape ? 'by-name' : 'either',
    params,
    result: { name: 'result', schema: (method.result ?? {}) as object },
    ...(examples.length > 0 ? { examples } : {}),
    'x-warden-plugin': plugin,
    'x-warden-method': method.name,
    ...(method.params !== null ? { 'x-warden-params': method.params } : {}),
  };
}

/**
 * The OpenRPC document of these plugins' methods, each named `PLUGIN.METHOD` and called through the control
 * socket's `plugin.call {name: PLUGIN, method: METHOD, params}` (the x-warden-* fields say which).
 */
export function openRpcDocument(plugins: readonly Pick<PluginDescription, 'name' | 'methods'>[], version: string): Schema {
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'warden plugins',
      version,
      description: "Every running plugin's methods, named PLUGIN.METHOD; call one with plugin.call {name, method, params} on warden's control socket.",
    },
    methods: plugins.flatMap((plugin) => plugin.methods.map((method) => methodObject(plugin.name, method))),
  };
}
