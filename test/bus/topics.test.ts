import { describe, expect, test } from 'vitest';
import { anyTopicMatches, topicMatches } from '../../src/bus/topics.js';

describe('topicMatches', () => {
  test.each([
    ['item.fetched', 'item.fetched', true],
    ['item.fetched', 'item.cleaned', false],
    ['item.fetched', 'item.fetched.raw', false],
    ['item.fetched', 'item', false],
    ['item', 'item', true],
    ['item', 'item.fetched', false],
    ['item.*', 'item.fetched', true],
    ['item.*', 'item.raw.x', true],
    ['item.*', 'item', false],
    ['item.*', 'item.', false],
    ['item.*', 'items.fetched', false],
    ['item.*', 'other.item.fetched', false],
    ['item.raw.*', 'item.raw.x', true],
    ['item.raw.*', 'item.raw', false],
    ['item.raw.*', 'item.cooked.x', false],
    ['*', 'item', false],
    ['*', '*', false],
    ['Item.fetched', 'item.fetched', false],
  ])('%s vs %s → %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  test('anyTopicMatches', () => {
    expect(anyTopicMatches(['a.b', 'item.*'], 'item.x')).toBe(true);
    expect(anyTopicMatches(['a.b', 'item.*'], 'a.c')).toBe(false);
    expect(anyTopicMatches([], 'a')).toBe(false);
  });
});
