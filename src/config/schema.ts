/**
 * The zod schema of the config file (docs/configuration.md, "Keys"). Every key is optional and carries its default;
 * paths stay as written here and are resolved against the config folder by the loader.
 */
import * as z from 'zod';
import { LOG_LEVELS, PLUGIN_NAME_RE } from '../protocol/index.js';
import { show } from './issues.js';

export { LOG_LEVELS, PLUGIN_NAME_RE };
export const APPROVAL_MODES = ['required', 'declared'] as const;

/** setTimeout treats anything above 2^31-1 ms as 1 ms, so a larger interval would spin. */
export const MAX_MS = 2_147_483_647;

const numberType = { error: (iss: { input: unknown }) => `expected a number, got ${show(iss.input)}` };

function integer(min: 0 | 1, max = Number.MAX_SAFE_INTEGER): z.ZodNumber {
  const bound = min === 1 ? 'a positive integer' : 'a non-negative integer';
  const msg = { error: (iss: { input: unknown }) => `must be ${bound}, got ${show(iss.input)}` };
  return z
    .number(numberType)
    .int(msg)
    .min(min, msg)
    .max(max, { error: (iss) => `must be at most ${max}, got ${show(iss.input)}` });
}

/** Positive whole milliseconds that a timer can honour. */
export const positiveMs = () => integer(1, MAX_MS);
export const nonNegativeMs = () => integer(0, MAX_MS);
export const positiveInt = () => integer(1);
export const nonNegativeInt = () => integer(0);

const bool = () => z.boolean({ error: (iss) => `expected true or false, got ${show(iss.input)}` });
const pathString = () =>
  z
    .string({ error: (iss) => `expected a path, got ${show(iss.input)}` })
    .min(1, { error: 'must not be empty' });

/** A mapping whose keys are all optional; `key:` with nothing after it (null) counts as absent. */
function section<T extends z.core.$ZodLooseShape>(shape: T) {
  return sectionOf(z.strictObject(shape));
}

/** `section` for an object schema built by hand (one with a check across its keys). */
function sectionOf<T extends z.ZodObject>(object: T) {
  return z.preprocess((v) => (v === null ? undefined : v), object.prefault({} as never));
}

const modeMessage = (v: unknown) => `expected an octal file mode like "0660", got ${show(v)}`;

/**
 * socket.mode: a string of octal digits ("0660", "660") or the number itself (0o660 = 432).
 * Bits above 0o777 (setuid, sticky) make no sense on a socket, which also catches a decimal 660.
 */
const socketMode = z.unknown().transform((v, ctx) => {
  let mode: number | null = null;
  if (typeof v === 'string' && /^0?[0-7]{3}$/.test(v)) mode = parseInt(v, 8);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o777) mode = v;
  if (mode === null) {
    ctx.issues.push({ code: 'custom', message: modeMessage(v), input: v });
    return z.NEVER;
  }
  return mode;
});

const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;
const listen = z.unknown().transform((v, ctx) => {
  if (v === null) return null;
  const m = typeof v === 'string' ? hostPort.exec(v) : null;
  if (!m || Number(m[2]) > 65535) {
    ctx.issues.push({ code: 'custom', message: `expected null or "host:port", got ${show(v)}`, input: v });
    return z.NEVER;
  }
  return v as string;
});

/** A POSIX-style user name (useradd's rule, up to 32 characters), or numeric "uid:gid". */
const USER_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?$/;
const UID_GID_RE = /^(\d{1,10}):(\d{1,10})$/;
/** 2^32-1 is (uid_t)-1, "no change", never a real id. */
const MAX_ID = 4_294_967_294;

/**
 * sandbox.user: only the shape is checked here; the name is looked up where plugins are launched.
 * Root (the name, uid 0 or gid 0) is refused: plugins never run with root's identity (docs/configuration.md, "sandbox").
 */
const sandboxUser = z.unknown().transform((v, ctx) => {
  if (v === null) return null;
  const fail = (message: string) => {
    ctx.issues.push({ code: 'custom', message, input: v });
    return z.NEVER;
  };
  if (typeof v !== 'string') return fail(`expected a user name, "uid:gid" or null, got ${show(v)}`);
  const ids = UID_GID_RE.exec(v);
  if (ids) {
    const [uid, gid] = [Number(ids[1]), Number(ids[2])];
    if (uid > MAX_ID || gid > MAX_ID) return fail(`uid and gid must be at most ${MAX_ID}, got ${show(v)}`);
    if (uid === 0 || gid === 0) return fail(`must not be root (uid or gid 0): plugins never run as root, got ${show(v)}`);
    return v;
  }
  if (!USER_NAME_RE.test(v)) return fail(`expected a user name, "uid:gid" or null, got ${show(v)}`);
  if (v === 'root') return fail('must not be root: plugins never run as root');
  return v;
});

const stringList = () =>
  z.array(z.string({ error: (iss) => `expected a string, got ${show(iss.input)}` }), {
    error: (iss) => `expected an array of strings, got ${show(iss.input)}`,
  });

const limitsShape = {
  memoryMb: positiveInt(),
  cpuPercent: positiveInt(),
  handles: positiveInt(),
  processes: positiveInt(),
};

/** `plugins.<name>`: every key optional, nothing defaulted (absent means "no override"). */
const pluginOverride = z.preprocess(
  (v) => (v === null ? {} : v),
  z.strictObject({
    enabled: bool().optional(),
    limits: z.strictObject(limitsShape).partial().optional(),
    callTimeoutMs: positiveMs().optional(),
    startTimeoutMs: positiveMs().optional(),
    stopTimeoutMs: positiveMs().optional(),
    health: z.strictObject({ intervalMs: positiveMs(), timeoutMs: positiveMs() }).partial().optional(),
    restart: z
      .strictObject({
        initialDelayMs: nonNegativeMs(),
        maxDelayMs: positiveMs(),
        maxRestarts: nonNegativeInt(),
        windowMs: positiveMs(),
        standby: bool(),
      })
      .partial()
      .optional(),
    circuit: z.strictObject({ failureThreshold: positiveInt(), cooldownMs: positiveMs() }).partial().optional(),
    output: z
      .strictObject({ linesPerSec: positiveInt(), burst: positiveInt(), bytesPerSec: positiveInt() })
      .partial()
      .optional(),
    permissions: z
      .strictObject({
        fs: z.strictObject({ read: stringList(), write: stringList() }).partial().optional(),
        network: bool().optional(),
        childProcess: bool().optional(),
        env: stringList().optional(),
      })
      .optional(),
    // Free-form: the plugin's own settings, merged over its manifest's `config`.
    config: z
      .record(z.string(), z.unknown(), { error: (iss) => `expected an object, got ${show(iss.input)}` })
      .optional(),
  }),
);

const pluginName = z.string().regex(PLUGIN_NAME_RE, {
  error: (iss) => `plugin name ${show(iss.input)} must match ${PLUGIN_NAME_RE.source}`,
});

export const configSchema = z.strictObject({
  pluginsDir: pathString().default('../plugins'),
  stateDir: pathString().default('../var'),
  socket: section({
    path: pathString().default('../var/warden.sock'),
    mode: socketMode.default(0o660),
    group: z
      .string({ error: (iss) => `expected a group name or null, got ${show(iss.input)}` })
      .min(1, { error: 'expected a group name or null, got ""' })
      .nullable()
      .default(null),
  }),
  logging: section({
    level: z
      .enum(LOG_LEVELS, {
        error: (iss) => `expected one of ${LOG_LEVELS.join(', ')}, got ${show(iss.input)}`,
      })
      .default('info'),
    dir: pathString().default('../var/logs'),
    maxBytes: positiveInt().default(10_485_760),
    keep: positiveInt().default(5),
  }),
  // cpuSamples: consecutive samples over cpuPercent before a CPU quota stop (a burst is not a breach).
  sampling: section({ intervalMs: positiveMs().default(1000), cpuSamples: positiveInt().default(3) }),
  defaults: section({
    limits: section({
      memoryMb: positiveInt().default(256),
      cpuPercent: positiveInt().default(100),
      handles: positiveInt().default(256),
      processes: positiveInt().default(16),
    }),
    callTimeoutMs: positiveMs().default(30_000),
    startTimeoutMs: positiveMs().default(10_000),
    stopTimeoutMs: positiveMs().default(5_000),
    health: section({ intervalMs: positiveMs().default(5_000), timeoutMs: positiveMs().default(2_000) }),
    restart: sectionOf(
      z
        .strictObject({
          initialDelayMs: nonNegativeMs().default(100),
          maxDelayMs: positiveMs().default(30_000),
          maxRestarts: nonNegativeInt().default(5),
          windowMs: positiveMs().default(60_000),
          standby: bool().default(false),
        })
        .superRefine((r, ctx) => {
          if (r.maxDelayMs < r.initialDelayMs) {
            ctx.addIssue({
              code: 'custom',
              path: ['maxDelayMs'],
              message: `must be at least initialDelayMs (${r.initialDelayMs}), got ${r.maxDelayMs}`,
              input: r.maxDelayMs,
            });
          }
        }),
    ),
    circuit: section({ failureThreshold: positiveInt().default(5), cooldownMs: positiveMs().default(30_000) }),
    // What a plugin may write on stdout/stderr: sustained lines per second, a burst above it, bytes per second.
    output: section({
      linesPerSec: positiveInt().default(200),
      burst: positiveInt().default(1000),
      bytesPerSec: positiveInt().default(1_048_576),
    }),
  }),
  hotReload: section({ enabled: bool().default(true), debounceMs: nonNegativeMs().default(300) }),
  metrics: section({ listen: listen.default(null) }),
  // require: a plugin that cannot be put behind the whole wall does not start; tmpMb: its private /tmp.
  sandbox: section({ require: bool().default(false), user: sandboxUser.default(null), tmpMb: positiveInt().default(64) }),
  permissions: section({
    approval: z
      .enum(APPROVAL_MODES, {
        error: (iss) => `expected one of ${APPROVAL_MODES.join(', ')}, got ${show(iss.input)}`,
      })
      .default('required'),
  }),
  plugins: z.preprocess(
    (v) => v ?? {},
    z.record(pluginName, pluginOverride, {
      error: (iss) => `expected an object of plugin names, got ${show(iss.input)}`,
    }),
  ),
});

export type RawConfig = z.output<typeof configSchema>;
