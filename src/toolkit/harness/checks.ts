/**
 * The checks of `warden plugin test`, each turning what one instance did into report lines. Each takes a
 * started TestInstance (run.ts starts and stops them) and never throws for anything the plugin does.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ExitInfo } from '../../host/exit.js';
import { describeExit } from '../../host/exit.js';
import type { Manifest, MethodExample } from '../../manifest/types.js';
import { ErrorCodes, RpcError } from '../../protocol/index.js';
import type { TestInstance } from './instance.js';
import { schemaProblem } from '../../manifest/method-schemas.js';
import type { CheckResult } from './types.js';

const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });

/** A value in a report line: JSON, cut to a readable length. */
export function shown(value: unknown, max = 120): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// Why: an error answer reads the same way in every line: its message and, for a plugin's own error, its code.
function errorText(error: Error): string {
  return error instanceof RpcError ? `${error.message} (code ${error.code})` : error.message;
}

/** Check 1: `warden.initialize` (an MCP server: `initialize` and `tools/list`) answered in time with a `methods` list; the served names, or null when it failed. */
export async function checkHandshake(instance: TestInstance, state: unknown, name = 'handshake'): Promise<{ line: CheckResult; methods: string[] | null }> {
  const begun = Date.now();
  try {
    const methods = await instance.start(state);
    const ms = Date.now() - begun;
    // The host reads a missing or malformed list as empty, as the daemon does; check 3 then names what is missing.
    const serves = methods.length === 0 ? 'an empty (or missing) methods list' : `methods ${methods.join(', ')}`;
    return { line: pass(name, `answered in ${ms} ms with ${serves}`), methods };
  } catch (error) {
    return { line: fail(name, (error as Error).message), methods: null };
  }
}

/** Check 2: `warden.health` (an MCP server: `ping`) answered (any answer, even an error, proves it alive, as in the daemon). */
export async function checkHealth(instance: TestInstance, timeoutMs: number): Promise<CheckResult> {
  const answer = await instance.call('warden.health', {}, timeoutMs);
  if (answer.ok) return pass('health', `answered ${shown(answer.result, 60)}`);
  if (answer.error instanceof RpcError && answer.error.code !== ErrorCodes.CallTimeout && answer.error.code !== ErrorCodes.PluginExited) {
    return pass('health', `answered with an error, which still proves it alive: ${errorText(answer.error)}`);
  }
  return fail('health', errorText(answer.error));
}

/** Check 3: every described method is served (a failure otherwise); served methods without a description are a warning. */
export function checkMethods(manifest: Manifest, served: string[]): CheckResult[] {
  const described = Object.keys(manifest.methods);
  const missing = described.filter((m) => !served.includes(m));
  const lines: CheckResult[] = [];
  if (missing.length > 0) {
    lines.push(fail('methods', `described in plugin.json but not served: ${missing.join(', ')} (the handshake lists ${served.length === 0 ? 'none' : served.join(', ')})`));
  } else {
    lines.push(pass('methods', described.length === 0 ? 'plugin.json describes no methods' : `all ${described.length} described methods are served`));
  }
  const undescribed = served.filter((m) => !Object.hasOwn(manifest.methods, m));
  if (undescribed.length > 0 && manifest.protocol === 'mcp') {
    // An MCP server's tools describe themselves (tools/list: a description and an inputSchema each).
    lines.push(pass('methods', `its tools, described by the server: ${undescribed.join(', ')}`));
  } else if (undescribed.length > 0) {
    lines.push({ name: 'methods', status: 'warn', detail: `served without a description in plugin.json: ${undescribed.join(', ')}` });
  }
  return lines;
}

// Why: the name a report line gives an example: the method, its index, and its own name when it has one.
function exampleName(method: string, index: number, example: MethodExample): string {
  return `example ${method}[${index}]${example.name ? ` ${JSON.stringify(example.name)}` : ''}`;
}

/** Check 4: each example called with its params; no error, a result that fits `result`, and equal to the example's own when given. */
export async function checkExamples(instance: TestInstance, manifest: Manifest, timeoutMs: number): Promise<CheckResult[]> {
  const lines: CheckResult[] = [];
  for (const [method, spec] of Object.entries(manifest.methods)) {
    for (const [i, example] of spec.examples.entries()) {
      const name = exampleName(method, i, example);
      // As the daemon does for a call without params: the plugin receives {}.
      const answer = await instance.call(method, example.params ?? {}, timeoutMs);
      if (!answer.ok) {
        lines.push(fail(name, `answered an error: ${errorText(answer.error)}`));
        continue;
      }
      const problem = spec.result === undefined ? null : schemaProblem(spec.result, answer.result);
      if (problem) {
        lines.push(fail(name, `the result does not fit the result schema: ${problem} (got ${shown(answer.result)})`));
      } else if (example.result !== undefined && !isDeepStrictEqual(answer.result, example.result)) {
        lines.push(fail(name, `expected ${shown(example.result)}, got ${shown(answer.result)}`));
      } else {
        const how = example.result !== undefined ? 'the expected result' : spec.result !== undefined ? 'a result that fits the schema' : shown(answer.result, 60);
        lines.push(pass(name, `answered ${how}`));
      }
    }
  }
  return lines;
}

/** What `warden.snapshot` gave: a state to carry (non-null), none (null or not supported), or a failure line. */
export type SnapshotOutcome = { state: unknown } | { none: string } | { failed: CheckResult };

/** The first half of check 5: `warden.snapshot` answered; null and method-not-found both mean "no snapshot". */
export async function takeSnapshot(instance: TestInstance, timeoutMs: number): Promise<SnapshotOutcome> {
  const answer = await instance.call('warden.snapshot', {}, timeoutMs);
  if (answer.ok) return answer.result === null || answer.result === undefined ? { none: 'warden.snapshot answered null' } : { state: answer.result };
  if (answer.error instanceof RpcError && answer.error.code === ErrorCodes.MethodNotFound) return { none: 'warden.snapshot is not served (-32601)' };
  return { failed: fail('snapshot', `warden.snapshot failed: ${errorText(answer.error)}`) };
}

/** The second half of check 5: the second instance, started with that state, answered its own warden.snapshot. */
export async function checkRestoredSnapshot(instance: TestInstance, state: unknown, timeoutMs: number): Promise<CheckResult> {
  const bytes = JSON.stringify(state).length;
  const answer = await instance.call('warden.snapshot', {}, timeoutMs);
  if (!answer.ok) return fail('snapshot', `a second instance started with the state (${bytes} bytes), but its warden.snapshot failed: ${errorText(answer.error)}`);
  return pass('snapshot', `state of ${bytes} bytes carried into a second instance, which started and answered warden.snapshot`);
}

/** Check 6: the plugin exited by itself with code 0 once its stdin closed; `exit` null means it was still running at the deadline. */
export function cleanExitLine(exit: ExitInfo | null, timeoutMs: number): CheckResult {
  if (exit === null) return fail('clean exit', `still running ${timeoutMs} ms after its stdin closed; killed (a plugin must exit when stdin ends)`);
  if (exit.code === 0 && exit.signal === null) return pass('clean exit', 'exited with code 0 once its stdin closed');
  return fail('clean exit', `exited once its stdin closed, but not cleanly: ${describeExit(exit)}`);
}
