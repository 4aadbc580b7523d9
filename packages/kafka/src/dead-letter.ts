import { DEAD_LETTER_HEADERS, deadLetterTopicName } from '@postwire/contracts';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { DeadLetterReason } from './failure.ts';
import { copyHeaders } from './headers.ts';

export type DeadLetterInfo = {
  readonly topic: string;
  readonly partition: number;
  readonly groupId: string;
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: Date;
};

/** The original record (key, value and headers untouched) plus why and where it failed. */
export function deadLetterRecord(message: KafkaMessage, info: DeadLetterInfo): { topic: string; message: Message } {
  const headers: IHeaders = {
    ...copyHeaders(message.headers),
    [DEAD_LETTER_HEADERS.reason]: info.reason,
    [DEAD_LETTER_HEADERS.error]: info.error,
    [DEAD_LETTER_HEADERS.attempts]: String(info.attempts),
    [DEAD_LETTER_HEADERS.originalTopic]: info.topic,
    [DEAD_LETTER_HEADERS.originalPartition]: String(info.partition),
    [DEAD_LETTER_HEADERS.originalOffset]: message.offset,
    [DEAD_LETTER_HEADERS.consumerGroup]: info.groupId,
    [DEAD_LETTER_HEADERS.failedAt]: info.failedAt.toISOString(),
  };
  return { topic: deadLetterTopicName(info.topic), message: { key: message.key, value: message.value, headers } };
}
