/**
 * Headers a consumer adds when it parks a message in `<topic>.dlq`. The original headers stay as
 * they were, so the message can be inspected and replayed as it arrived.
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq_reason',
  error: 'dlq_error',
  attempts: 'dlq_attempts',
  originalTopic: 'dlq_original_topic',
  originalPartition: 'dlq_original_partition',
  originalOffset: 'dlq_original_offset',
  consumerGroup: 'dlq_consumer_group',
  failedAt: 'dlq_failed_at',
} as const;
