import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { manifestJsonSchema } from '../../src/manifest/schema.js';
import { SCHEMA_FILE, schemaFileText, writeSchemaFile } from '../../src/manifest/write-schema.js';
import { PACKAGE_ROOT } from '../../src/version.js';

test('schema/plugin.schema.json is in sync with the zod schema (regenerate: node dist/manifest/write-schema.js)', async () => {
  expect(SCHEMA_FILE).toBe(path.join(PACKAGE_ROOT, 'schema', 'plugin.schema.json'));
  const committed = await readFile(SCHEMA_FILE, 'utf8');
  expect(JSON.parse(committed)).toEqual(manifestJsonSchema());
  expect(committed).toBe(schemaFileText());
});

test('the JSON schema says what editors need', () => {
  const s = manifestJsonSchema() as {
    $id: string;
    title: string;
    required: string[];
    additionalProperties: boolean;
    oneOf: unknown[];
    properties: Record<string, { pattern?: string; enum?: string[] }>;
  };
  expect(s.$id).toBeTruthy();
  expect(s.title).toContain('plugin.json');
  expect(s.required).toEqual(['name', 'version']);
  expect(s.additionalProperties).toBe(false);
  expect(s.oneOf).toEqual([{ required: ['main'] }, { required: ['command'] }]);
  expect(s.properties['name']?.pattern).toBe('^[a-z0-9][a-z0-9-]{0,63}$');
  expect(s.properties['kind']?.enum).toEqual(['connector', 'processor', 'analyzer', 'service']);
});

test('writeSchemaFile writes the same text', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-schema-'));
  try {
    const file = writeSchemaFile(path.join(dir, 'out.json'));
    expect(await readFile(file, 'utf8')).toBe(schemaFileText());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
