// The bench's plugin, written by hand against the stdio protocol (docs/protocol.md) with no SDK and no
// library: the same file runs under warden and under every bare baseline (the bare pipe, the bare
// respawn, the bare parent of a fleet), so each pair of figures differs only by supervision.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The plugin's source, an ES module for `node plugin.mjs`: `echo` returns its params, `ping` answers "pong". */
export const PROTOCOL_PLUGIN = `let buffered = '';
const send = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
const answer = (request) => {
  if (request.id === undefined) return;
  const result = (value) => send({ jsonrpc: '2.0', id: request.id, result: value });
  if (request.method === 'echo') return result(request.params);
  if (request.method === 'warden.initialize') return result({ methods: ['echo', 'ping'] });
  if (request.method === 'ping') return result('pong');
  if (request.method === 'warden.shutdown') { result(null); process.exit(0); }
  result({});
};
process.stdin.setEncoding('utf8').on('data', (chunk) => {
  buffered += chunk;
  for (let end = buffered.indexOf('\\n'); end >= 0; end = buffered.indexOf('\\n')) {
    const line = buffered.slice(0, end);
    buffered = buffered.slice(end + 1);
    let request;
    try { request = JSON.parse(line); } catch { continue; }
    answer(request);
  }
}).on('end', () => process.exit(0));
`;

/** The handshake a bare parent sends, as warden would. */
export const INITIALIZE_LINE = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'warden.initialize', params: { protocol: 1, name: 'bare', version: '1.0.0', config: {}, state: null } })}\n`;

/** Writes a plugin folder (plugin.json and index.mjs) for the protocol plugin. */
export function layProtocolPlugin(dir: string, name: string, manifest: Record<string, unknown> = {}): void {
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.mjs', ...manifest }));
  writeFileSync(join(dir, 'index.mjs'), PROTOCOL_PLUGIN);
}

let folder: string | null = null;

/**
 * The plugin as a folder of this bench run (removed at exit), for bare baselines and walled launches
 * without a daemon: readable by the identity plugins run as, like an operator's plugin folder.
 */
export function protocolPluginDir(): string {
  if (folder) return folder;
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-plugin-'));
  chmodSync(dir, 0o755);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  layProtocolPlugin(dir, 'bench');
  folder = dir;
  return dir;
}

/** The plugin's one file (index.mjs in protocolPluginDir). */
export function protocolPluginFile(): string {
  return join(protocolPluginDir(), 'index.mjs');
}
