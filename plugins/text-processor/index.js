// text-processor — step 2 of the example pipeline (connector → processor → analyzer).
//
// Shows: events in and out. It subscribes to item.fetched and emits item.cleaned (both declared in
// plugin.json: an undeclared emit would be dropped by the daemon). It needs no permissions at all:
// the text arrives in the event, so the default sandbox (its own folder, read-only) is enough.
import { definePlugin, PluginError } from 'warden/sdk';

// A small list on purpose: enough to keep "the" and "and" out of the top keywords.
const STOP_WORDS = new Set(
  `a an the and or but if then else of to in on at by for with from into over under as is are was were be
   been being am do does did have has had it its this that these those there here i you he she we they me
   him her us them my your his our their not no so than too very can will would should could just also`.split(/\s+/),
);

// Each event is one JSON line of at most 1 MiB: a long text's tokens go out in several events,
// which the analyzer simply adds up.
const MAX_CHUNK_BYTES = 512 * 1024;

/** Lowercases, strips punctuation, collapses whitespace and splits into words, minus stop words. */
function tokenize(text) {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['’]/gu, '') // "don't" → "dont" rather than "don" + "t"
    .replace(/[^\p{L}\p{N}]+/gu, ' ') // any other run of punctuation or whitespace is one separator
    .trim()
    .split(' ')
    .filter((word) => word !== '' && !STOP_WORDS.has(word));
}

/** Splits tokens into runs whose JSON stays under MAX_CHUNK_BYTES. */
function* chunks(tokens) {
  let chunk = [];
  let bytes = 0;
  for (const token of tokens) {
    const size = Buffer.byteLength(token) + 3; // quotes and comma
    if (chunk.length > 0 && bytes + size > MAX_CHUNK_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(token);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

definePlugin({
  methods: {
    /** {text} → {tokens}: the same cleaning as the pipeline, for a direct call. */
    clean: ({ text } = {}) => {
      if (typeof text !== 'string') throw new PluginError('clean needs {text: string}', -32602);
      return { tokens: tokenize(text) };
    },
  },

  onEvent({ topic, data }, ctx) {
    if (topic !== 'item.fetched' || typeof data?.text !== 'string') {
      ctx.log.warn('ignored an event without text', { topic });
      return;
    }
    for (const tokens of chunks(tokenize(data.text))) ctx.emit('item.cleaned', { file: data.file, tokens });
  },
});
