import { DEAD_LETTER_HEADERS } from '@postwire/contracts';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { NonRetryableError, deadLetterRecord, decideAfterFailure, headersFromKafka } from '../src/index.ts';

describe('failure classification', () => {
  it('retries an ordinary error until the attempts are used up, then dead-letters it', () => {
    expect(decideAfterFailure(new Error('timeout'), 1, 3)).toEqual({ action: 'retry', attempt: 2 });
    expect(decideAfterFailure(new Error('timeout'), 3, 3)).toEqual({ action: 'dead-letter', reason: 'handler-failed' });
  });

  it('dead-letters a NonRetryableError on the first attempt', () => {
    expect(decideAfterFailure(new NonRetryableError('unknown account'), 1, 5)).toEqual({
      action: 'dead-letter',
      reason: 'handler-rejected',
    });
  });
});

describe('dead-letter record', () => {
  const original: KafkaMessage = {
    key: Buffer.from('account-1'),
    value: Buffer.from('{"broken'),
    headers: { ce_id: Buffer.from('event-1'), traceparent: Buffer.from('00-abc-def-01') },
    offset: '41',
    timestamp: '0',
    attributes: 0,
  };

  it('keeps key, value and original headers, and adds reason, attempts and origin', () => {
    const record = deadLetterRecord(original, {
      topic: 'postwire.post-events.v1',
      partition: 2,
      groupId: 'analytics',
      reason: 'invalid-json',
      error: 'Unexpected end of JSON input',
      attempts: 0,
      failedAt: new Date('2025-06-01T10:00:00Z'),
    });
    expect(record.topic).toBe('postwire.post-events.v1.dlq');
    expect(record.message.key).toBe(original.key);
    expect(record.message.value).toBe(original.value);
    expect(headersFromKafka(record.message.headers)).toEqual({
      ce_id: 'event-1',
      traceparent: '00-abc-def-01',
      [DEAD_LETTER_HEADERS.reason]: 'invalid-json',
      [DEAD_LETTER_HEADERS.error]: 'Unexpected end of JSON input',
      [DEAD_LETTER_HEADERS.attempts]: '0',
      [DEAD_LETTER_HEADERS.originalTopic]: 'postwire.post-events.v1',
      [DEAD_LETTER_HEADERS.originalPartition]: '2',
      [DEAD_LETTER_HEADERS.originalOffset]: '41',
      [DEAD_LETTER_HEADERS.consumerGroup]: 'analytics',
      [DEAD_LETTER_HEADERS.failedAt]: '2025-06-01T10:00:00.000Z',
    });
  });

  it('reads repeated headers as their last value', () => {
    expect(headersFromKafka({ ce_type: [Buffer.from('a'), Buffer.from('b')], empty: undefined })).toEqual({
      ce_type: 'b',
      empty: undefined,
    });
  });
});
