export { appendToOutbox, type OutboxTarget } from './writer.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.ts';
export { createIdempotentHandler, type InboxOptions, type TransactionalHandler } from './inbox.ts';
export { createOutboxMetrics, type OutboxBacklog, type OutboxMetrics } from './metrics.ts';
export {
  createInboxHandler,
  type Consumed,
  type DeadLetterHandlers,
  type Emit,
  type InboxContext,
  type InboxHandler,
  type InboxHandlerOptions,
  type InboxHandlers,
  type InboxOutcome,
  type InboxStep,
} from './inbox-handler.ts';
