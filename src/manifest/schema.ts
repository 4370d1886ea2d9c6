/**
 * plugin.json (docs/manifest.md, "Fields" and "Validation rules"): its zod schema, the validator that lists every problem, one line each
 * naming the field, and the JSON Schema editors use.
 */
import path from 'node:path';
import semver from 'semver';
import * as z from 'zod';
import { DAEMON_TOPIC_PREFIX, TOPIC_PATTERN_RE, TOPIC_RE } from '../bus/topics.js';
import { describeIssues, show } from '../config/issues.js';
import { ACTIVATIONS, isReservedMethod, PLUGIN_KINDS, PLUGIN_NAME_RE, PLUGIN_PROTOCOLS, RESERVED_METHOD_PREFIXES_TEXT, reservedVariable } from '../protocol/index.js';
import { WARDEN_VERSION } from '../version.js';
import { cronProblem } from './cron.js';
import { methodProblems } from './method-schemas.js';
import type { Manifest } from './types.js';

export { PLUGIN_KINDS };

/** A lazy plugin's default `idleStopMs`: five minutes without a call or an event. */
export const DEFAULT_IDLE_STOP_MS = 300_000;
/** An environment variable name, as `permissions.env` and `environment` take them. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `environment`: at most this many variables, each value at most this many characters. */
export const MAX_ENVIRONMENT_ENTRIES = 64;
export const MAX_ENVIRONMENT_VALUE = 4096;

const nonEmpty = () => z.string().min(1, { error: 'must not be empty' });
const posInt = () =>
  z
    .number({ error: (iss) => `expected a positive integer, got ${show(iss.input)}` })
    .int({ error: (iss) => `expected a positive integer, got ${show(iss.input)}` })
    .positive({ error: (iss) => `expected a positive integer, got ${show(iss.input)}` })
    // setTimeout cannot wait longer; larger values would fire at once.
    .max(2_147_483_647, { error: (iss) => `must be at most 2147483647, got ${show(iss.input)}` });
const strings = () => z.array(nonEmpty()).default([]);

const pluginName = () =>
  z.string().regex(PLUGIN_NAME_RE, {
    error: (iss) => `${show(iss.input)} must match ${PLUGIN_NAME_RE.source}`,
  });
const range = () =>
  nonEmpty().refine((v) => semver.validRange(v) !== null, {
    error: (iss) => `${show(iss.input)} is not a valid semver range`,
  });
const topics = (re: RegExp, what: string) =>
  z.array(z.string().regex(re, { error: (iss) => `${show(iss.input)} is not a topic (${what})` })).default([]);

/** A JSON Schema: an object (its own keywords are Ajv's to check) or true/false. */
const jsonSchema = () =>
  z.union([z.boolean(), z.record(z.string(), z.unknown())], { error: (iss) => `expected a JSON Schema (an object or a boolean), got ${show(iss.input)}` });

/** One entry of `methods`. */
const methodSpecSchema = z.strictObject({
  description: z.string().default('').meta({ description: 'What the method does.' }),
  params: jsonSchema().optional().meta({ description: 'JSON Schema of its params: a call that does not fit is answered -32602 by the daemon.' }),
  result: jsonSchema().optional().meta({ description: 'JSON Schema of its result.' }),
  examples: z
    .array(z.strictObject({ name: z.string().optional(), params: z.unknown(), result: z.unknown().optional() }))
    .default([])
    .meta({ description: 'Params with the result they give: checked against the schemas by `warden plugin validate`, and run by `warden plugin test`.' }),
});

const MAIN_OR_COMMAND = 'plugin.json: exactly one of "main" and "command" is required';

/** A variable both fixed in `environment` and passed from the daemon's in `permissions.env`. */
const bothEnvironments = (name: string) =>
  `${name} is also in permissions.env: a variable is either fixed here or passed on from the daemon's environment, not both`;

const relativeInside = (p: string) =>
  !path.isAbsolute(p) && !path.posix.normalize(p.replaceAll('\\', '/')).startsWith('../') && p !== '..';

export const manifestSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Where editors find this schema; ignored by warden.' }),
    name: pluginName().meta({ description: 'Unique plugin name.' }),
    version: z
      .string()
      .refine((v) => semver.valid(v) !== null, { error: (iss) => `${show(iss.input)} is not a semver version` })
      .meta({ description: 'The plugin version (semver).' }),
    description: z.string().default(''),
    kind: z
      .enum(PLUGIN_KINDS, { error: (iss) => `expected one of ${PLUGIN_KINDS.join(', ')}, got ${show(iss.input)}` })
      .default('service'),
    main: nonEmpty()
      .refine(relativeInside, {
        error: (iss) => `must be a relative path inside the plugin folder, got ${show(iss.input)}`,
      })
      .optional()
      .meta({ description: "Entry file run with the daemon's node (exactly one of main / command)." }),
    command: z
      .array(nonEmpty(), { error: (iss) => `expected a non-empty array of strings, got ${show(iss.input)}` })
      .min(1, { error: 'expected a non-empty array of strings, got an empty one' })
      .optional()
      .meta({ description: 'Any executable and its arguments (exactly one of main / command).' }),
    engines: z
      .strictObject({
        warden: range().optional().meta({ description: 'Semver range of warden versions this plugin works with.' }),
      })
      .default({}),
    dependencies: z
      .record(pluginName(), range())
      .default({})
      .meta({ description: 'Other plugins by name and version range: started first; the only ones it may call.' }),
    permissions: z
      .strictObject({
        fs: z
          .strictObject({ read: strings(), write: strings() })
          .prefault({})
          .meta({ description: 'Paths beyond its own folder, relative to the plugin folder.' }),
        network: z.boolean().default(false),
        childProcess: z.boolean().default(false),
        env: z
          .array(z.string().regex(ENV_NAME_RE, { error: (iss) => `${show(iss.input)} is not an environment variable name` }))
          .default([])
          .meta({ description: "The only variables passed from the daemon's environment." }),
      })
      .prefault({}),
    environment: z
      .record(
        z
          .string()
          .regex(ENV_NAME_RE, { error: (iss) => `${show(iss.input)} is not an environment variable name` })
          .refine((name) => reservedVariable(name) === null, { error: (iss) => reservedVariable(String(iss.input)) ?? 'reserved' }),
        z
          .string({ error: (iss) => `expected a string, got ${show(iss.input)}` })
          .max(MAX_ENVIRONMENT_VALUE, { error: `must be at most ${MAX_ENVIRONMENT_VALUE} characters` })
          .refine((v) => !v.startsWith('./') || relativeInside(v), { error: (iss) => `${show(iss.input)} leaves the plugin folder (a value starting with ./ is a path inside it)` }),
      )
      .refine((env) => Object.keys(env).length <= MAX_ENVIRONMENT_ENTRIES, {
        error: (iss) => `at most ${MAX_ENVIRONMENT_ENTRIES} variables, got ${Object.keys(iss.input as object).length}`,
      })
      .default({})
      .meta({
        maxProperties: MAX_ENVIRONMENT_ENTRIES,
        description:
          "Fixed variables set in its process: NAME → value. A value starting with ./ is a path inside the plugin folder, made absolute. Needs no approval (it is no secret of the daemon's); HOME, PATH, LANG, LC_ALL, TZ, WARDEN_* and LD_* are reserved.",
      }),
    limits: z
      .strictObject({ memoryMb: posInt(), cpuPercent: posInt(), handles: posInt(), processes: posInt() })
      .partial()
      .default({})
      .meta({ description: "May lower the operator's limits, never raise them." }),
    callTimeoutMs: posInt().optional(),
    schedules: z
      .array(
        z.strictObject({
          cron: z.string().superRefine((v, ctx) => {
            const problem = cronProblem(v);
            if (problem) ctx.addIssue({ code: 'custom', message: problem, input: v });
          }).meta({ description: '5 fields, or 6 with seconds first.' }),
          method: nonEmpty().refine((m) => !m.startsWith('warden.'), {
            error: (iss) => `${show(iss.input)} is reserved (methods starting with "warden.")`,
          }),
          params: z.unknown().default({}),
        }),
      )
      .default([]),
    subscribes: topics(TOPIC_PATTERN_RE, 'dot-separated words, may end with ".*"'),
    emits: z
      .array(
        z
          .string()
          .regex(TOPIC_RE, { error: (iss) => `${show(iss.input)} is not a topic (dot-separated words)` })
          .refine((t) => !t.startsWith(DAEMON_TOPIC_PREFIX), { error: (iss) => `${show(iss.input)} is the daemon's own (topics starting with "${DAEMON_TOPIC_PREFIX}")` }),
      )
      .default([]),
    config: z
      .record(z.string(), z.unknown())
      .default({})
      .meta({ description: "Default settings; the operator's plugins.<name>.config merges over them." }),
    activation: z
      .enum(ACTIVATIONS, { error: (iss) => `expected one of ${ACTIVATIONS.join(', ')}, got ${show(iss.input)}` })
      .default('eager')
      .meta({ description: 'eager: started with the daemon; lazy: started at its first call, event or schedule, stopped after idleStopMs.' }),
    idleStopMs: posInt()
      .default(DEFAULT_IDLE_STOP_MS)
      .meta({ description: 'A lazy plugin is stopped after this long without calls or events (in-flight calls count).' }),
    protocol: z
      .enum(PLUGIN_PROTOCOLS, { error: (iss) => `expected one of ${PLUGIN_PROTOCOLS.join(', ')}, got ${show(iss.input)}` })
      .default('warden')
      .meta({ description: "warden: the plugin speaks warden's protocol; mcp: it is a Model Context Protocol server on stdio, its tools its methods." }),
    methods: z
      .record(
        nonEmpty().refine((m) => !isReservedMethod(m), {
          error: (iss) => `${show(iss.input)} is reserved (methods starting with ${RESERVED_METHOD_PREFIXES_TEXT})`,
        }),
        methodSpecSchema,
      )
      .default({})
      .meta({ description: 'The methods it serves, described: served as OpenRPC (rpc.discover) and used to validate calls.' }),
  })
  .superRefine((m, ctx) => {
    if ((m.main === undefined) === (m.command === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: MAIN_OR_COMMAND.slice('plugin.json: '.length), input: m });
    }
    if (Object.hasOwn(m.dependencies, m.name)) {
      ctx.addIssue({ code: 'custom', path: ['dependencies', m.name], message: 'a plugin may not depend on itself', input: m });
    }
    for (const name of Object.keys(m.environment)) {
      if (m.permissions.env.includes(name)) ctx.addIssue({ code: 'custom', path: ['environment', name], message: bothEnvironments(name), input: m });
    }
  });

/** Valid: the manifest with defaults applied. Invalid: every problem, one line each, and them joined with "; ". */
export type ValidateResult = { ok: true; manifest: Manifest } | { ok: false; reason: string; problems: string[] };

/**
 * Validates a parsed plugin.json. Every problem is one line `plugin.json: <field>: <problem>` (an
 * unknown key with the field it most likely meant); `reason` joins them with "; ".
 */
export function validateManifest(raw: unknown): ValidateResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return invalid([`plugin.json: expected an object at the top level, got ${show(raw)}`]);
  }
  const parsed = manifestSchema.safeParse(raw);
  const problems = parsed.success
    ? []
    : describeIssues(parsed.error.issues, raw, manifestSchema).map(({ path: where, reason }) =>
        where ? `plugin.json: ${where}: ${reason}` : `plugin.json: ${reason}`,
      );
  // The checks across fields run inside the schema only once everything else is valid; here they
  // join the other problems (a repeat of one the schema found is dropped).
  for (const problem of [...crossFieldProblems(raw as Record<string, unknown>), enginesProblem(raw as Record<string, unknown>)]) {
    if (problem && !problems.includes(problem)) problems.push(problem);
  }
  // Schemas and examples are checked for every method entry that is well formed, whatever else is wrong.
  for (const problem of methodProblems(wellFormedMethods(raw as Record<string, unknown>))) if (!problems.includes(problem)) problems.push(problem);
  if (!parsed.success || problems.length > 0) return invalid(problems);
  const m = parsed.data;
  const manifest: Manifest = {
    name: m.name,
    version: m.version,
    description: m.description,
    kind: m.kind,
    ...(m.main !== undefined ? { main: m.main } : { command: m.command ?? [] }),
    engines: m.engines.warden !== undefined ? { warden: m.engines.warden } : {},
    dependencies: { ...m.dependencies },
    permissions: {
      fs: { read: m.permissions.fs.read, write: m.permissions.fs.write },
      network: m.permissions.network,
      childProcess: m.permissions.childProcess,
      env: m.permissions.env,
    },
    ...(Object.keys(m.environment).length > 0 ? { environment: { ...m.environment } } : {}),
    limits: m.limits,
    ...(m.callTimeoutMs !== undefined ? { callTimeoutMs: m.callTimeoutMs } : {}),
    schedules: m.schedules.map((s) => ({ cron: s.cron, method: s.method, params: s.params })),
    subscribes: m.subscribes,
    emits: m.emits,
    config: m.config,
    activation: m.activation,
    idleStopMs: m.idleStopMs,
    methods: m.methods as Manifest['methods'],
    protocol: m.protocol,
  };
  return { ok: true, manifest };
}

function invalid(problems: string[]): ValidateResult {
  const list = problems.length > 0 ? problems : ['plugin.json: invalid'];
  return { ok: false, reason: list.join('; '), problems: list };
}

/** The entries of a raw `methods` that parse on their own (the rest already have their problems listed). */
function wellFormedMethods(raw: Record<string, unknown>): Manifest['methods'] {
  const methods = raw['methods'];
  if (methods === null || typeof methods !== 'object' || Array.isArray(methods)) return {};
  const out: Manifest['methods'] = {};
  for (const [name, spec] of Object.entries(methods)) {
    const parsed = methodSpecSchema.safeParse(spec);
    if (parsed.success) out[name] = parsed.data as Manifest['methods'][string];
  }
  return out;
}

/** The schema's own checks across fields, on the raw input (they must not wait for the rest to be valid). */
function crossFieldProblems(raw: Record<string, unknown>): string[] {
  const out: string[] = [];
  if ((raw['main'] === undefined) === (raw['command'] === undefined)) out.push(MAIN_OR_COMMAND);
  const name = raw['name'];
  const deps = raw['dependencies'];
  if (typeof name === 'string' && deps !== null && typeof deps === 'object' && !Array.isArray(deps) && Object.hasOwn(deps, name)) {
    out.push(`plugin.json: dependencies.${name}: a plugin may not depend on itself`);
  }
  const environment = raw['environment'];
  const permissions = raw['permissions'];
  const passed = permissions !== null && typeof permissions === 'object' ? (permissions as Record<string, unknown>)['env'] : undefined;
  if (environment !== null && typeof environment === 'object' && !Array.isArray(environment) && Array.isArray(passed)) {
    for (const key of Object.keys(environment)) if (passed.includes(key)) out.push(`plugin.json: environment.${key}: ${bothEnvironments(key)}`);
  }
  return out;
}

/** `engines.warden` is a valid range that this daemon's version does not satisfy. */
function enginesProblem(raw: Record<string, unknown>): string | null {
  const engines = raw['engines'];
  const wanted = engines !== null && typeof engines === 'object' ? (engines as Record<string, unknown>)['warden'] : undefined;
  if (typeof wanted !== 'string' || wanted === '' || semver.validRange(wanted) === null) return null;
  if (semver.satisfies(WARDEN_VERSION, wanted, { includePrerelease: true })) return null;
  return `plugin.json: engines.warden ${JSON.stringify(wanted)} is not satisfied by warden ${WARDEN_VERSION}`;
}

/** The JSON Schema of plugin.json for editors (`"$schema": "…/schema/plugin.schema.json"`). */
export function manifestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'urn:warden:schema:plugin.json',
    title: 'warden plugin manifest (plugin.json)',
    description:
      'A warden plugin: a folder whose plugin.json names the plugin and how to run it. ' +
      'Checks the schema cannot express (semver validity, cron fields, engines.warden) are made by warden itself.',
    ...rest,
    // zod cannot say "exactly one of"; editors should still flag both or neither.
    oneOf: [{ required: ['main'] }, { required: ['command'] }],
  };
}
