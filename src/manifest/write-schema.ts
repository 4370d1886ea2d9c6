/**
 * Writes schema/plugin.schema.json from the zod schema (`node dist/manifest/write-schema.js [out]`),
 * so editors get the same rules the daemon applies. A test keeps the committed file in sync.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../version.js';
import { manifestJsonSchema } from './schema.js';

export const SCHEMA_FILE = path.join(PACKAGE_ROOT, 'schema', 'plugin.schema.json');

export function schemaFileText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

export function writeSchemaFile(file: string = SCHEMA_FILE): string {
  writeFileSync(file, schemaFileText());
  return file;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  console.log(`wrote ${writeSchemaFile(process.argv[2] ? path.resolve(process.argv[2]) : SCHEMA_FILE)}`);
}
