/**
 * The result schemas of a manifest's methods, compiled with Ajv the way src/manifest/method-schemas.ts
 * compiles params (same options: formats not checked, unknown keywords allowed), and its error wording.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { describeSchemaErrors } from '../../manifest/method-schemas.js';
import type { JsonSchema } from '../../manifest/types.js';

type AjvInstance = { compile(schema: JsonSchema): ValidateFunction };

let ajv: AjvInstance | null = null;

// Why: one Ajv for the run, loaded at first need like the manifest's own (ajv is CommonJS).
function validator(): AjvInstance {
  if (ajv) return ajv;
  const require = createRequire(import.meta.url);
  const Ajv = (require('ajv') as { default: new (options: Record<string, unknown>) => AjvInstance }).default;
  ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, validateSchema: true });
  return ajv;
}

/**
 * Why `value` does not fit `schema`, one problem per field joined with "; " (`result.items: must be
 * integer`), or null when it fits. A schema that does not compile is itself the problem.
 */
export function schemaProblem(schema: JsonSchema, value: unknown, root = 'result'): string | null {
  let validate: ValidateFunction;
  try {
    validate = validator().compile(schema);
  } catch (error) {
    return `the ${root} schema does not compile: ${(error as Error).message}`;
  }
  return validate(value) ? null : describeSchemaErrors(root, validate.errors).join('; ');
}
