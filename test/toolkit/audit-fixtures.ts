/** Plugin folders for the audit tests, written into temp dirs: one per language using every capability, and a tidy one. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Writes `files` (relative path → text) under a fresh temp folder and returns it. */
export function writePlugin(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'warden-audit-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const manifest = (extra: Record<string, unknown>) => JSON.stringify({ name: 'audited', version: '1.2.3', description: 'x', kind: 'service', ...extra });

/** Declares network, API_TOKEN and /srv/data (read); not child processes. Line numbers matter to the tests. */
export const JS_PLUGIN: Record<string, string> = {
  'plugin.json': manifest({ main: 'index.js', permissions: { network: true, env: ['API_TOKEN'], fs: { read: ['/srv/data'] } } }),
  'index.js': [
    "import { spawn } from 'node:child_process';", // 1
    "import http from 'node:http';", // 2
    "import fs from 'node:fs';", // 3
    "import { readFile } from 'node:fs/promises';", // 4
    "import path from 'node:path';", // 5
    "import vm from 'node:vm';", // 6
    '', // 7
    'const token = process.env.API_TOKEN;', // 8
    "const home = process.env['HOME'];", // 9
    'const all = { ...process.env };', // 10
    "fs.readFileSync('/etc/passwd', 'utf8');", // 11
    "fs.readFileSync('/srv/data/input.txt', 'utf8');", // 12
    "fs.writeFileSync('../outside.txt', 'x');", // 13
    "fs.readFileSync(path.join(import.meta.dirname, 'own.txt'));", // 14
    'await readFile(process.argv[2]);', // 15
    "await fetch('https://example.com');", // 16
    "eval('1 + 1');", // 17
    "new Function('return 1');", // 18
    'await import(process.argv[3]);', // 19
    "process.binding('fs');", // 20
    "process.dlopen({}, '/tmp/x.node');", // 21
    "spawn('ls');", // 22
    'export { token, home, all, http, vm };', // 23
  ].join('\n'),
  'lib.cjs': [
    "'use strict';", // 1
    "const { Worker } = require('worker_threads');", // 2
    "const net = require('net');", // 3
    "const addon = require('./build/addon.node');", // 4
    "const name = 'x';", // 5
    'const mod = require(name);', // 6
    "const bindings = require('bindings');", // 7
    'module.exports = { Worker, net, addon, mod, bindings };', // 8
  ].join('\n'),
  // `with` is a syntax error in a module: this file parses only as a script.
  'legacy.js': ['with (Math) { max(1, 2); }', "const cp = require('child_process');"].join('\n'),
  'broken.js': 'const ok = 1;\nfunction (\n',
  'src/types.ts': 'export const x: number = 1;\n',
  'node_modules/dep/index.js': "require('child_process');\n",
};

/** Declares network, API_TOKEN and /srv/data (read); not child processes. */
export const PY_PLUGIN: Record<string, string> = {
  'plugin.json': manifest({ command: ['python3', 'main.py'], permissions: { network: true, env: ['API_TOKEN'], fs: { read: ['/srv/data'] } } }),
  'main.py': [
    'import os', // 1
    'import subprocess', // 2
    'import socket', // 3
    'import requests', // 4
    'import ctypes', // 5
    'import importlib', // 6
    'from pathlib import Path', // 7
    'from urllib import request', // 8
    '', // 9
    "token = os.environ['API_TOKEN']", // 10
    "home = os.environ.get('HOME')", // 11
    "user = os.getenv('USER')", // 12
    'everything = dict(os.environ)', // 13
    "os.system('ls')", // 14
    "open('/etc/passwd').read()", // 15
    "open('/srv/data/input.txt').read()", // 16
    "open('../outside.txt', 'w').write('x')", // 17
    "Path(__file__).parent / 'own.txt'", // 18
    "open(os.path.join(os.path.dirname(__file__), 'own.txt'))", // 19
    'open(token)', // 20
    "eval('1 + 1')", // 21
    "exec('x = 1')", // 22
    'importlib.import_module(token)', // 23
    "__import__('json')", // 24
    "Path('/var/log/syslog').read_text()", // 25
  ].join('\n'),
  'broken.py': 'def (:\n',
  '.venv/pyvenv.cfg': 'home = /usr/bin\n',
  '.venv/lib/site.py': 'import subprocess\n',
};

/** Network declared and used; one undeclared variable; one computed path: 100 - 5 - 2 = 93. */
export const TIDY_PLUGIN: Record<string, string> = {
  'plugin.json': manifest({ name: 'tidy', main: 'index.js', permissions: { network: true } }),
  'index.js': [
    "const https = require('node:https');", // 1
    "const { readFileSync } = require('node:fs');", // 2
    'readFileSync(process.argv[2]);', // 3
    'module.exports = { https, level: process.env.LOG_LEVEL };', // 4
  ].join('\n'),
};
