export { topicMatches, anyTopicMatches } from './topics.js';
export { EventBus, DEFAULT_QUEUE_LIMIT } from './event-bus.js';
export type { BusEvent, Subscriber, EventBusOptions, PublishResult, SubscriberStats } from './event-bus.js';
