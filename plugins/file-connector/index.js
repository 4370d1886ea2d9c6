// file-connector — step 1 of the example pipeline (connector → processor → analyzer).
//
// Shows: a schedule (plugin.json runs `poll` every 2 seconds), emitting events, and the fs sandbox:
// this plugin may read and write only ./inbox (plus read its own folder), so everything it touches
// lives there — new files in inbox/, processed ones moved to inbox/done/, oversized ones to inbox/skipped/.
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin } from 'warden/sdk';

// Resolved from this file rather than the working directory, so it is the same path the manifest grants.
const INBOX = fileURLToPath(new URL('./inbox', import.meta.url));
const DONE = join(INBOX, 'done');
const SKIPPED = join(INBOX, 'skipped');

// Events travel as one JSON line, and the daemon drops lines over 1 MiB: stay below that.
const MAX_FILE_BYTES = 1_000_000;
const MAX_ENCODED_BYTES = 1024 * 1024 - 16 * 1024; // room for the envelope around the text
// A file modified this recently may still be being copied in: the next poll takes it.
const SETTLE_MS = 500;

const stats = { seen: 0, fetched: 0, skipped: 0 };

/** Moves a file out of the inbox so the next poll does not see it again. */
async function moveTo(folder, name) {
  await rename(join(INBOX, name), join(folder, name)); // same filesystem, inside the write grant
}

async function skip(name, why, ctx) {
  stats.skipped += 1;
  ctx.log.warn(`skipped ${name}: ${why}`, { file: name, movedTo: 'inbox/skipped/' });
  await moveTo(SKIPPED, name);
}

/** Sends one inbox file on as item.fetched and moves it to done/. False when it is not ready or skipped. */
async function fetchFile(name, ctx) {
  const info = await stat(join(INBOX, name));
  if (Date.now() - info.mtimeMs < SETTLE_MS) return false;
  stats.seen += 1;
  if (info.size > MAX_FILE_BYTES) {
    await skip(name, `${info.size} bytes is over the ${MAX_FILE_BYTES}-byte limit`, ctx);
    return false;
  }
  const text = await readFile(join(INBOX, name), 'utf8');
  if (Buffer.byteLength(JSON.stringify(text)) > MAX_ENCODED_BYTES) {
    await skip(name, 'too large once encoded as JSON for one event', ctx);
    return false;
  }
  ctx.emit('item.fetched', { file: name, text });
  // Emit first, then move: a crash in between re-sends the file rather than losing it.
  await moveTo(DONE, name);
  stats.fetched += 1;
  return true;
}

/** Takes every settled *.txt file in the inbox, in name order. */
async function pollInbox(ctx) {
  const entries = await readdir(INBOX, { withFileTypes: true });
  const names = entries.filter((e) => e.isFile() && e.name.endsWith('.txt')).map((e) => e.name).sort();
  const fetched = [];
  for (const name of names) {
    try {
      if (await fetchFile(name, ctx)) fetched.push(name);
    } catch (err) {
      // One unreadable file must not hold up the others; it stays in the inbox for the next poll.
      ctx.log.error(`could not process ${name}: ${err.message}`, { file: name });
    }
  }
  return { fetched };
}

let polling = null; // the poll in progress, if any

definePlugin({
  async init(ctx) {
    // The inbox ships with the plugin (inbox/.gitkeep), but an operator may have removed it.
    await mkdir(DONE, { recursive: true });
    await mkdir(SKIPPED, { recursive: true });
    ctx.log.info('watching the inbox', { inbox: INBOX });
  },

  methods: {
    /** Run by the schedule (callable by hand too): emits item.fetched {file, text} per new *.txt file. */
    poll(_params, ctx) {
      // The scheduler never overlaps its own runs, but a hand-made call could: share the run in progress
      // so no file is sent twice.
      polling ??= pollInbox(ctx).finally(() => (polling = null));
      return polling;
    },

    /** How many files this instance has seen, sent on and skipped. */
    status: () => ({ inbox: INBOX, ...stats }),
  },
});
