/**
 * The JSON Schemas of a manifest's `methods` (docs/manifest.md, "methods"), compiled with Ajv: whether
 * each schema compiles and each example fits it (at validation), and whether a call's params fit (at the
 * daemon's edge, before a call reaches the plugin). Ajv is loaded the first time a manifest has a schema.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { JsonSchema, Manifest, MethodSpec } from './types.js';

type AjvInstance = { compile(schema: JsonSchema): ValidateFunction };

let ajv: AjvInstance | null = null;

// Why: one Ajv for every plugin, made at first need (its import costs the daemon's boot ~20 ms otherwise).
// Formats are not checked (no format plugin is loaded) and unknown keywords are allowed, as in draft-07.
function validator(): AjvInstance {
  if (ajv) return ajv;
  const require = createRequire(import.meta.url);
  const Ajv = (require('ajv') as { default: new (options: Record<string, unknown>) => AjvInstance }).default;
  ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, validateSchema: true });
  return ajv;
}

/** Ajv's errors as one line per problem, each naming the field under `root` ("params.limit: must be integer"). */
export function describeSchemaErrors(root: string, errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const at = root + e.instancePath.replaceAll('/', '.');
    if (e.keyword === 'required') return `${at}.${(e.params as { missingProperty: string }).missingProperty}: is required`;
    if (e.keyword === 'additionalProperties') return `${at}.${(e.params as { additionalProperty: string }).additionalProperty}: is not allowed`;
    return `${at}: ${e.message ?? 'is invalid'}`;
  });
}

// Why: a schema that does not compile is a manifest problem, named by its field.
function compile(schema: JsonSchema, where: string, problems: string[]): ValidateFunction | null {
  try {
    return validator().compile(schema);
  } catch (error) {
    problems.push(`plugin.json: ${where}: not a valid JSON Schema (${(error as Error).message})`);
    return null;
  }
}

/** Compiled once per schema (a manifest's, or an MCP server's tool's: both are checked on every call). */
const bySchema = new WeakMap<object, ValidateFunction>();
const byBoolean = new Map<boolean, ValidateFunction>();

/**
 * Why `value` does not fit `schema`, one problem per field joined with "; " (`result.items: must be
 * integer`), or null when it fits. A schema that does not compile is itself the problem.
 */
export function schemaProblem(schema: JsonSchema, value: unknown, root = 'result'): string | null {
  let validate: ValidateFunction;
  try {
    const kept = typeof schema === 'object' ? bySchema.get(schema) : byBoolean.get(schema);
    validate = kept ?? validator().compile(schema);
    if (!kept && typeof schema === 'object') bySchema.set(schema, validate);
    else if (!kept) byBoolean.set(schema as boolean, validate);
  } catch (error) {
    return `the ${root} schema does not compile: ${(error as Error).message}`;
  }
  return validate(value) ? null : describeSchemaErrors(root, validate.errors).join('; ');
}

/** Every problem with the methods' schemas and examples, one line each, naming the field. */
export function methodProblems(methods: Record<string, MethodSpec>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(methods)) {
    const params = spec.params === undefined ? null : compile(spec.params, `methods.${name}.params`, problems);
    const result = spec.result === undefined ? null : compile(spec.result, `methods.${name}.result`, problems);
    spec.examples.forEach((example, i) => {
      const at = `plugin.json: methods.${name}.examples[${i}]`;
      if (params && !params(example.params)) problems.push(...describeSchemaErrors(`${at}.params`, params.errors));
      if (result && example.result !== undefined && !result(example.result)) problems.push(...describeSchemaErrors(`${at}.result`, result.errors));
    });
  }
  return problems;
}

/** Why a call's params do not fit the method's schema ("params.limit: must be integer; …"), or null when they do or it has none. */
export function paramsProblem(manifest: Manifest, method: string, params: unknown): string | null {
  const schema = Object.hasOwn(manifest.methods, method) ? manifest.methods[method]!.params : undefined;
  return schema === undefined ? null : schemaProblem(schema, params ?? {}, 'params');
}
