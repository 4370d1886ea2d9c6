/** The shapes of `warden plugin audit` (docs/audit.md): what the analyzers see and what the report says. */

/** What a use reaches for; `analysis` collects the files the audit could not read. */
export type Capability = 'childProcess' | 'network' | 'fs' | 'env' | 'dynamicCode' | 'nativeCode' | 'processBinding' | 'analysis';

/** One rule of docs/audit.md: each finding is exactly one of these. */
export type Rule =
  | 'child-process'
  | 'network'
  | 'fs-outside'
  | 'fs-computed'
  | 'env'
  | 'env-all'
  | 'dynamic-code'
  | 'native-code'
  | 'process-binding'
  | 'parse-error'
  | 'not-analyzed'
  | 'typescript-source';

/**
 * What an analyzer saw at one place, before the manifest is consulted. `fs` carries the path when it is
 * a constant (relative ones against the plugin folder) or null when computed; `env` the variable's name.
 */
export type Use =
  | { kind: 'childProcess' | 'network' | 'dynamicCode' | 'nativeCode' | 'processBinding' | 'envAll' | 'parseError'; line: number; detail: string }
  | { kind: 'env'; line: number; detail: string; name: string }
  | { kind: 'fs'; line: number; detail: string; path: string | null; write: boolean };

/** One line of the report. `line` is 1-based; 0 when the finding is about the whole file. */
export interface Finding {
  rule: Rule;
  capability: Capability;
  /** Relative to the plugin folder, with `/` separators. */
  file: string;
  line: number;
  detail: string;
  /** An `env` finding's variable name (the other rules have none). */
  name?: string;
  /** Whether plugin.json's permissions cover it; always false for what no manifest can declare. */
  declared: boolean;
}

/** Whether the Python sources were read, and if not, why. */
export interface PythonStatus {
  files: number;
  analyzed: boolean;
  problem: string | null;
}

export interface AuditReport {
  plugin: string;
  version: string;
  dir: string;
  score: number;
  files: { javascript: number; python: number; typescript: number };
  python: PythonStatus;
  /** Sorted by capability order of the severity table, then file and line. */
  findings: Finding[];
}
