export { appendToOutbox, type OutboxTarget } from './writer.ts';
export { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './relay.ts';
export { createIdempotentHandler, pruneInbox, type InboxOptions, type TransactionalHandler } from './inbox.ts';
export { createOutboxMetrics, type OutboxBacklog, type OutboxMetrics } from './metrics.ts';
