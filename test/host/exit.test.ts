import { describe, expect, it } from 'vitest';
import { classifyExit, describeExit, errorLine, signalName } from '../../src/host/exit.js';

describe('errorLine', () => {
  it("names node's error, not its version banner or stack", () => {
    const tail = [
      'file:///srv/plugins/bad/index.js:3',
      'const x = ;',
      '          ^',
      '',
      "SyntaxError: Unexpected token ';'",
      '    at ModuleLoader.moduleStrategy (node:internal/modules/esm/translators:152:18)',
      '',
      'Node.js v20.20.2',
    ];
    expect(errorLine(tail)).toBe("SyntaxError: Unexpected token ';'");
  });

  it("names Python's exception, after the traceback", () => {
    const tail = ['Traceback (most recent call last):', '  File "/p/main.py", line 1, in <module>', '    import nope', "ModuleNotFoundError: No module named 'nope'"];
    expect(errorLine(tail)).toBe("ModuleNotFoundError: No module named 'nope'");
  });

  it('falls back to the last line that is not noise, and to nothing', () => {
    expect(errorLine(['starting', 'giving up: no config'])).toBe('giving up: no config');
    expect(errorLine(['', 'Node.js v20.20.2'])).toBeUndefined();
    expect(errorLine(['bwrap: Can\'t find source path /x: No such file or directory'])).toMatch(/^bwrap: /);
  });
});

describe('classifyExit', () => {
  const none = { oomKills: 0, hardMemoryMb: 320 };

  it('a kernel OOM kill is a memory quota, naming the hard limit', () => {
    expect(classifyExit({ code: null, signal: 'SIGKILL' }, { oomKills: 1, hardMemoryMb: 320 })).toEqual({
      kind: 'quota',
      message: 'memory: killed by the kernel at 320 MB (killed by SIGKILL)',
    });
  });

  it("V8's heap limit is a memory quota", () => {
    const verdict = classifyExit({ code: 134, signal: null, heapExhausted: true, lastStderr: 'FATAL ERROR: Reached heap limit' }, none);
    expect(verdict.kind).toBe('quota');
    expect(verdict.message).toMatch(/^memory: the V8 heap limit was reached \(exit code 134; last stderr: FATAL ERROR/);
  });

  it('anything else is a crash that says how it ended', () => {
    expect(classifyExit({ code: 3, signal: null, lastStderr: 'Error: boom' }, none)).toEqual({ kind: 'crash', message: 'exit code 3; last stderr: Error: boom' });
    expect(classifyExit({ code: null, signal: 'SIGSEGV' }, none).message).toBe('killed by SIGSEGV');
    expect(describeExit({ code: 1, signal: null, sandboxFailed: true, lastStderr: 'bwrap: no' })).toBe('the sandbox could not be built (exit code 1); last stderr: bwrap: no');
    expect(describeExit({ code: 0, signal: null, lastStderr: 'bye' })).toBe('exit code 0');
  });
});

describe('signalName', () => {
  it('maps the number bwrap reports as 128+n back to a name', () => {
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(0)).toBeNull();
  });
});
