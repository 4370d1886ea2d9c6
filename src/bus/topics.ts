/**
 * Topic patterns as the manifest allows them in `subscribes`: an exact dot-separated topic, or
 * `prefix.*`, which matches any topic strictly below the prefix (one level or deeper).
 * The home of the topic syntax: the manifest schema and the control socket's events.publish use these.
 */

/** Dot-separated words of letters, digits, `_` and `-`. */
const TOPIC = '[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*';
/** One topic: what a manifest `emits` and what `events.publish` accept. */
export const TOPIC_RE = new RegExp(`^${TOPIC}$`);
/** A subscription: a topic, or `prefix.*` (what a manifest `subscribes` accepts). */
export const TOPIC_PATTERN_RE = new RegExp(`^${TOPIC}(\\.\\*)?$`);

/** Topics the daemon itself publishes (`warden.lifecycle`): no plugin may emit one, nor the operator publish one. */
export const DAEMON_TOPIC_PREFIX = 'warden.';

/** Every state change of every plugin: `{plugin, from, to, reason}` (docs/protocol.md, "Events"). */
export const LIFECYCLE_TOPIC = 'warden.lifecycle';

/** "item.fetched" matches "item.fetched"; "item.*" matches "item.fetched" and "item.raw.x" (any deeper topic under the prefix) but not "item" itself; "*" alone is not a valid pattern (the manifest schema already refuses it). */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1); // keeps the dot, so "item.*" never matches "items.x"
    return topic.length > prefix.length && topic.startsWith(prefix);
  }
  // A bare "*" would be a catch-all the schema refuses; never let it through as a literal either.
  return pattern !== '*' && pattern === topic;
}

/** True if any of the patterns matches the topic. */
export function anyTopicMatches(patterns: readonly string[], topic: string): boolean {
  for (const p of patterns) if (topicMatches(p, topic)) return true;
  return false;
}
