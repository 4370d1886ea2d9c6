/** `warden call NAME METHOD [JSON] [--timeout MS]`. */
import { Option, type Command } from 'commander';
import { Method, type PluginCallParams } from '../../protocol/index.js';
import { UsageError } from '../exit.js';
import { outJson, wholeNumber, withClient } from './context.js';

export function registerCall(program: Command): void {
  program
    .command('call')
    .description("call a plugin's method and print its result as JSON")
    .argument('<name>', 'the plugin')
    .argument('<method>', 'the method')
    .argument('[params]', 'the params: a JSON object or array')
    .addOption(new Option('--timeout <ms>', 'fail the call after this long (default: the plugin\'s callTimeoutMs)').argParser(wholeNumber('--timeout', 1)))
    .addHelpText(
      'after',
      `
Examples:
  $ warden call echo reverse '{"text": "hello"}'
  $ warden call text-processor clean '{"text": "  Hello, World!  "}'
  $ warden call keyword-analyzer top '{"n": 5}'
  $ warden call file-connector poll --timeout 60000`,
    )
    .action(async (name: string, method: string, rawParams: string | undefined, options: { timeout?: number }, command: Command) => {
      const request: PluginCallParams = { name, method };
      if (rawParams !== undefined) request.params = parseParams(rawParams);
      if (options.timeout !== undefined) request.timeoutMs = options.timeout;
      const result = await withClient(command, (client) => client.request(Method.PluginCall, request));
      outJson(result);
    });
}

function parseParams(raw: string): unknown {
  let params: unknown;
  try {
    params = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`warden call: params are not valid JSON: ${(error as Error).message}`);
  }
  if (typeof params !== 'object' || params === null) {
    throw new UsageError('warden call: params must be a JSON object or array (JSON-RPC 2.0), e.g. \'{"text": "hi"}\'');
  }
  return params;
}
