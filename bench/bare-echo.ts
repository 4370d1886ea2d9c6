// The baseline peer: a bare child that answers NDJSON JSON-RPC requests on its stdio, nothing else.
import { createLineReader } from '../dist/rpc/line-reader.js';

const reader = createLineReader({
  onLine(line) {
    const request = JSON.parse(line) as { id: number; params: unknown };
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, result: request.params })}\n`);
  },
});
process.stdin.on('data', (chunk: Buffer) => reader.push(chunk));
process.stdin.on('end', () => process.exit(0));
