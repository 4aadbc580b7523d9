export * from './primitives.ts';
export {
  assertNever,
  defineEvent,
  defineTopic,
  type EventDefinition,
  type EventOf,
  type EventOfType,
  type EventTypeOf,
  type KeyedPayload,
  type TopicContract,
  type TopicKind,
} from './define.ts';
export {
  CONTENT_TYPE,
  ContractViolationError,
  EventMetadataSchema,
  HEADERS,
  SPEC_VERSION,
  encodeEvent,
  readEnvelope,
  toHeaders,
  type ContractViolationReason,
  type DecodeFailure,
  type DecodeFailureReason,
  type EncodeOptions,
  type EncodedEvent,
  type EnvelopeResult,
  type EventMetadata,
  type IncomingEvent,
  type IncomingMessage,
  type MetadataInput,
  type OutgoingEvent,
  type WireMessage,
} from './envelope.ts';
export {
  createEventReader,
  defineUpcaster,
  type DecodeResult,
  type EventReader,
  type LegacyTopic,
  type Upcaster,
} from './upcasting.ts';
export { DEAD_LETTER_HEADERS } from './dead-letter.ts';
export { CATALOGUE, deadLetterTopicName, topicByName, type CatalogueTopic } from './catalogue.ts';
export { buildAsyncApiDocument, eventExamples, exampleOf, type AsyncApiOptions } from './asyncapi.ts';
export * from './topics/account-requests.ts';
export * from './topics/account-events.ts';
export * from './topics/post-requests.ts';
export * from './topics/post-events.ts';
export * from './topics/analytics-events.ts';
export * from './topics/analytics-requests.ts';
export { postEventsV0, postPublishedV0 } from './legacy/post-events-v0.ts';

import type { EventOf } from './define.ts';
import type { accountEvents } from './topics/account-events.ts';
import type { accountRequests } from './topics/account-requests.ts';
import type { analyticsEvents } from './topics/analytics-events.ts';
import type { analyticsRequests } from './topics/analytics-requests.ts';
import type { postEvents } from './topics/post-events.ts';
import type { postRequests } from './topics/post-requests.ts';

export type AccountRequest = EventOf<typeof accountRequests>;
export type AccountEvent = EventOf<typeof accountEvents>;
export type PostRequest = EventOf<typeof postRequests>;
export type PostEvent = EventOf<typeof postEvents>;
export type AnalyticsEvent = EventOf<typeof analyticsEvents>;
export type AnalyticsRequest = EventOf<typeof analyticsRequests>;
export { derivedAccountId } from './account-id.ts';
