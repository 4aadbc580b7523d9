export { createKafkaClient, type KafkaClient, type KafkaClientOptions } from './client.ts';
export { createEventProducer, type EventProducer, type EventProducerOptions } from './producer.ts';
export {
  createEventConsumer,
  type ConsumedEvent,
  type DeadLetterFailure,
  type EventConsumer,
  type EventConsumerOptions,
  type EventHandler,
  type HandleOutcome,
  type KafkaPosition,
} from './consumer.ts';
export { provisionTopics, type ProvisionOptions, type ProvisionReport } from './provision.ts';
export { createKafkaMetrics, type KafkaMetrics, type LagRow } from './metrics.ts';
export { fetchConsumerLag } from './lag.ts';
export { NonRetryableError, decideAfterFailure, describeError, type DeadLetterReason, type FailureDecision } from './failure.ts';
export { deadLetterRecord, type DeadLetterInfo } from './dead-letter.ts';
export { headersFromKafka } from './headers.ts';
export { applyRequestQueueFix } from './request-queue-fix.ts';
export type { ServiceLogger } from './logging.ts';
