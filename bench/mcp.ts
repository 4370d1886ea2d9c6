// `BENCH_ONLY=mcp`: a `tools/call` through `warden mcp` (the gateway → control socket → daemon → the MCP
// server behind the wall) beside the same call made by the same MCP SDK client to the server directly.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ControlClient } from '../dist/control/client.js';
import { PACKAGE_ROOT } from '../dist/version.js';
import { withBenchDaemon } from './daemon.js';
import { measureCalls, medianFigures, pipeline, printTable, type Call, type CallFigures } from './stats.js';

const SEQUENTIAL = Number(process.env.BENCH_MCP_SEQUENTIAL ?? 5000);
const CONCURRENT = Number(process.env.BENCH_MCP_CONCURRENT ?? 30_000);
const IN_FLIGHT = 64;
/** Rounds of each path, alternated (direct, socket, gateway, direct, …): each figure is the median of its rounds. */
const ROUNDS = Number(process.env.BENCH_CALL_ROUNDS ?? 3);
const PLUGIN = 'mcp-bench';
const CLI = join(PACKAGE_ROOT, 'dist/cli/main.js');
/** The dependency-free MCP server of the tests: its `add` tool answers `{a, b}` with their sum. */
const SERVER = join(PACKAGE_ROOT, 'test/fixtures/mcp-server/server.mjs');
const ARGS = { a: 2, b: 3 };
/** Calls on each path before the first round, many in flight, besides measureCalls' own 500 sequential: the first round read slower without them. */
const WARMUP = 3000;

/** An MCP SDK client connected over stdio to `args` run by this node; its process ends with `close`. */
async function connectSdk(args: string[]): Promise<{ client: Client; close: () => Promise<void> }> {
  const client = new Client({ name: 'warden-bench', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'inherit' });
  const close = async (): Promise<void> => {
    await client.close().catch(() => undefined);
    await transport.close().catch(() => undefined); // a no-op once the client closed it; ends the child if connect failed half-way
  };
  try {
    await client.connect(transport);
  } catch (error) {
    await close();
    throw error;
  }
  return { client, close };
}

/** A `tools/call` of `add` by the SDK client, checked: the same work on every path. */
function sdkCall(client: Client, tool: string): Call {
  return async () => {
    const result = (await client.callTool({ name: tool, arguments: ARGS })) as { structuredContent?: { sum?: number }; isError?: boolean };
    if (result.isError || result.structuredContent?.sum !== 5) throw new Error(`${tool} answered ${JSON.stringify(result)}`);
    return result;
  };
}

/** The same call as a `plugin.call` on the control socket (warden's own client, no MCP client or gateway). */
function socketCall(control: ControlClient): Call {
  return async () => {
    const result = await control.request<{ structuredContent?: { sum?: number } }>('plugin.call', { name: PLUGIN, method: 'add', params: ARGS });
    if (result.structuredContent?.sum !== 5) throw new Error(`plugin.call answered ${JSON.stringify(result)}`);
    return result;
  };
}

const us = (n: number) => `${n.toFixed(0)} µs`;
const perSecond = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k/s` : `${(n / 1000).toFixed(1)}k/s`);
const ratio = (n: number) => `${n.toFixed(2)}×`;

export async function mcpSection(): Promise<void> {
  const options = { sequential: SEQUENTIAL, pipelined: CONCURRENT, inFlight: IN_FLIGHT };
  const figures = await withBenchDaemon({
    outside: true,
    prepare: (dir) => {
      const pluginDir = join(dir, 'plugins', PLUGIN);
      mkdirSync(pluginDir, { recursive: true });
      copyFileSync(SERVER, join(pluginDir, 'server.mjs'));
      writeFileSync(join(pluginDir, 'plugin.json'), JSON.stringify({ name: PLUGIN, version: '1.0.0', protocol: 'mcp', main: 'server.mjs' }));
    },
    ready: async (client) => (await client.request<{ state: string }>('plugin.get', { name: PLUGIN })).state === 'running',
    fn: async ({ client: control, dir }) => {
      // The direct server runs the plugin folder's own copy, unwalled: the baseline an agent has without warden.
      const direct = await connectSdk([join(dir, 'plugins', PLUGIN, 'server.mjs')]);
      try {
        const gateway = await connectSdk([CLI, 'mcp', '--socket', join(dir, 'warden.sock')]);
        try {
          // As an agent would: list the tools first (the gateway then also polls its list, as it does for an agent).
          if (!(await direct.client.listTools()).tools.some((t) => t.name === 'add')) throw new Error('the MCP server offers no add');
          if (!(await gateway.client.listTools()).tools.some((t) => t.name === `${PLUGIN}.add`)) throw new Error(`warden mcp offers no ${PLUGIN}.add`);
          const paths = { direct: sdkCall(direct.client, 'add'), socket: socketCall(control), gateway: sdkCall(gateway.client, `${PLUGIN}.add`) };
          for (const call of Object.values(paths)) await pipeline(call, null, WARMUP, IN_FLIGHT);
          const rounds = { direct: [] as CallFigures[], socket: [] as CallFigures[], gateway: [] as CallFigures[] };
          for (let i = 0; i < ROUNDS; i++) {
            rounds.direct.push(await measureCalls(paths.direct, options));
            rounds.socket.push(await measureCalls(paths.socket, options));
            rounds.gateway.push(await measureCalls(paths.gateway, options));
          }
          return { rounds, direct: medianFigures(rounds.direct), socket: medianFigures(rounds.socket), gateway: medianFigures(rounds.gateway) };
        } finally {
          await gateway.close();
        }
      } finally {
        await direct.close();
      }
    },
  });

  const { direct, socket, gateway } = figures;
  const spread = (rounds: CallFigures[]) =>
    `${rounds.map((r) => r.p50Us.toFixed(0)).join('/')} µs · ${rounds.map((r) => perSecond(r.callsPerSecond)).join('/')}`;
  printTable(
    `MCP: a tools/call of add, ${SEQUENTIAL} sequential, ${CONCURRENT} with ${IN_FLIGHT} in flight; the median of ${ROUNDS} alternated rounds`,
    ['path', 'p50', 'p99', 'throughput', 'p50 vs (a)', 'throughput vs (a)', 'rounds: p50 · throughput'],
    [
      ['(a) SDK client → the MCP server directly', us(direct.p50Us), us(direct.p99Us), perSecond(direct.callsPerSecond), '1.00×', '1.00×', spread(figures.rounds.direct)],
      ['(b) plugin.call on the control socket → daemon → the server behind the wall', us(socket.p50Us), us(socket.p99Us), perSecond(socket.callsPerSecond), ratio(socket.p50Us / direct.p50Us), ratio(socket.callsPerSecond / direct.callsPerSecond), spread(figures.rounds.socket)],
      ['(c) SDK client → warden mcp → control socket → daemon → the server', us(gateway.p50Us), us(gateway.p99Us), perSecond(gateway.callsPerSecond), ratio(gateway.p50Us / direct.p50Us), ratio(gateway.callsPerSecond / direct.callsPerSecond), spread(figures.rounds.gateway)],
    ],
  );
  console.log(
    '\n(a) and (c) use the same MCP SDK Client class over stdio, so its own per-call cost is on both sides; (b) is warden without the MCP client or the gateway. The server is test/fixtures/mcp-server/server.mjs (no dependencies), the same file on every path.',
  );
}
