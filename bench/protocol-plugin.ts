// The fleet's plugin, written by hand against the stdio protocol (docs/protocol.md) with no SDK: the same
// file runs under warden and under the bare parent, so the two start figures differ only by supervision.

/** The plugin's source, an ES module for `node plugin.mjs`. */
export const PROTOCOL_PLUGIN = `import { createInterface } from 'node:readline';
const send = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  let request;
  try { request = JSON.parse(line); } catch { return; }
  if (request.id === undefined) return;
  const answer = (result) => send({ jsonrpc: '2.0', id: request.id, result });
  if (request.method === 'warden.initialize') return answer({ methods: ['ping'] });
  if (request.method === 'ping') return answer('pong');
  if (request.method === 'warden.shutdown') { answer(null); process.exit(0); }
  answer({});
}).on('close', () => process.exit(0));
`;

/** The handshake the bare parent sends, as warden would. */
export const INITIALIZE_LINE = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'warden.initialize', params: { protocol: 1, name: 'bare', version: '1.0.0', config: {}, state: null } })}\n`;
