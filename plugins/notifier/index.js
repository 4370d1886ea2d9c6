// The notifier plugin: watches every plugin through warden's lifecycle events and posts the ones an
// operator must hear of to a webhook (config.url), at most config.burst within config.windowMs.
import { definePlugin } from 'warden/sdk';

const stats = { sent: 0, dropped: 0, failed: 0, lastError: null };
/** When each post of the current window went out. */
const recent = [];

/** What a lifecycle change means to an operator, or null when it is routine. */
export function noteworthy({ from, to, reason }) {
  if (to === 'disabled') return 'disabled';
  if (typeof reason === 'string' && reason.startsWith('quota:')) return 'quota-stop';
  if (from === to && typeof reason === 'string' && reason.startsWith('reload failed')) return 'reload-failed';
  return null;
}

/** Whether one more post fits the window; drops it (counted) when it does not. */
function admit(config, now) {
  while (recent.length > 0 && now - recent[0] >= config.windowMs) recent.shift();
  if (recent.length >= config.burst) {
    stats.dropped += 1;
    return false;
  }
  recent.push(now);
  return true;
}

async function post(config, body, log) {
  try {
    const response = await fetch(config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
    stats.sent += 1;
  } catch (error) {
    stats.failed += 1;
    stats.lastError = error instanceof Error ? error.message : String(error);
    log.warn('notification not delivered', { error: stats.lastError, plugin: body.plugin, kind: body.kind });
  }
}

definePlugin({
  init(ctx) {
    if (typeof ctx.config.url !== 'string' || ctx.config.url === '') {
      ctx.log.warn('no config.url: set plugins.notifier.config.url in warden.yaml; nothing is posted until then');
    }
  },

  async onEvent(event, ctx) {
    if (event.topic !== 'warden.lifecycle' || event.source !== 'warden') return;
    const kind = noteworthy(event.data ?? {});
    const config = ctx.config;
    if (!kind || typeof config.url !== 'string' || config.url === '') return;
    if (!admit(config, Date.now())) return;
    const { plugin, from, to, reason } = event.data;
    await post(config, { kind, plugin, from, to, reason, time: new Date().toISOString(), droppedSoFar: stats.dropped }, ctx.log);
  },

  methods: {
    stats: () => ({ ...stats }),
  },
});
