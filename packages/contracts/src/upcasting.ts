import { z } from 'zod';
import type { EventOf, TopicContract } from './define.ts';
import {
  type DecodeFailure,
  type EventMetadata,
  type IncomingEvent,
  type IncomingMessage,
  failure,
  readEnvelope,
} from './envelope.ts';

/**
 * Turns one event type of an older topic version into the current shape. It reads the old payload
 * (checked against the old schema first), so the current handlers never see an old shape.
 */
export type Upcaster<Current extends TopicContract> = {
  apply(
    body: unknown,
    metadata: EventMetadata,
  ): { readonly ok: true; readonly event: EventOf<Current> } | { readonly ok: false; readonly detail: string };
};

export function defineUpcaster<Current extends TopicContract, Old extends z.ZodType>(
  _current: Current,
  definition: { readonly schema: Old; upcast(old: z.output<Old>, metadata: EventMetadata): EventOf<Current> },
): Upcaster<Current> {
  return {
    apply(body, metadata) {
      const parsed = definition.schema.safeParse(body);
      if (!parsed.success) return { ok: false, detail: `old shape: ${z.prettifyError(parsed.error)}` };
      return { ok: true, event: definition.upcast(parsed.data, metadata) };
    },
  };
}

/** An older major version of a topic that consumers still read while producers move over. */
export type LegacyTopic<Current extends TopicContract> = {
  readonly name: string;
  readonly current: Current;
  /** Every type still produced on the old topic; a type without an upcaster is dead-lettered. */
  readonly upcasters: Readonly<Record<string, Upcaster<Current>>>;
};

export type DecodeResult<Topic extends TopicContract> =
  | { readonly ok: true; readonly event: IncomingEvent<Topic>; readonly upcastFrom?: string }
  | DecodeFailure;

export type EventReader<Topic extends TopicContract> = {
  readonly topic: Topic;
  /** Every topic name to subscribe to: the current version and the legacy ones. */
  readonly topicNames: readonly string[];
  decode(topicName: string, message: IncomingMessage): DecodeResult<Topic>;
};

/**
 * The consumer's edge: envelope, JSON, upcasting of older versions, then the current contract, so a
 * handler only ever receives a valid event in the current shape.
 */
export function createEventReader<Topic extends TopicContract>(
  topic: Topic,
  options: { readonly legacy?: readonly LegacyTopic<Topic>[] } = {},
): EventReader<Topic> {
  const legacy = new Map((options.legacy ?? []).map((old) => [old.name, old]));
  return {
    topic,
    topicNames: [topic.name, ...legacy.keys()],
    decode(topicName, message) {
      const envelope = readEnvelope(message);
      if (!envelope.ok) return envelope;
      let candidate: { type: string; data: unknown } = { type: envelope.type, data: envelope.body };
      let upcastFrom: string | undefined;
      if (topicName !== topic.name) {
        const old = legacy.get(topicName);
        if (!old) return failure('unknown-topic', `${topicName} is not read by this consumer`, envelope.type);
        const upcaster = old.upcasters[envelope.type];
        if (!upcaster) return failure('unknown-type', `${envelope.type} has no upcaster from ${topicName}`, envelope.type);
        const upcast = upcaster.apply(envelope.body, envelope.metadata);
        if (!upcast.ok) return failure('schema-mismatch', upcast.detail, envelope.type);
        candidate = upcast.event;
        upcastFrom = topicName;
      }
      const definition = topic.definition(candidate.type);
      if (!definition) return failure('unknown-type', `${candidate.type} is not an event of ${topic.name}`, candidate.type);
      const parsed = definition.data.safeParse(candidate.data);
      if (!parsed.success) return failure('schema-mismatch', z.prettifyError(parsed.error), candidate.type);
      if (message.key !== parsed.data.socialAccountId) {
        return failure('key-mismatch', `key ${message.key} is not the payload's socialAccountId`, candidate.type);
      }
      // The union member is chosen by `type`, and `data` was parsed by that member's own schema.
      const event = { type: candidate.type, data: parsed.data, metadata: envelope.metadata } as IncomingEvent<Topic>;
      return upcastFrom === undefined ? { ok: true, event } : { ok: true, event, upcastFrom };
    },
  };
}
