import { z } from 'zod';
import { CATALOGUE, deadLetterTopicName } from './catalogue.ts';
import type { EventDefinition, TopicContract } from './define.ts';
import { CONTENT_TYPE, HEADERS } from './envelope.ts';
import { DEAD_LETTER_HEADERS } from './dead-letter.ts';

export type AsyncApiOptions = {
  readonly version?: string;
  readonly servers?: Readonly<Record<string, { readonly host: string; readonly description?: string }>>;
  readonly topics?: readonly TopicContract[];
};

type JsonObject = { [key: string]: unknown };

const KAFKA_BINDING_VERSION = '0.5.0';

/** JSON Schema draft 7 (what AsyncAPI schemas build on), without a `$schema` of its own. */
function jsonSchema(schema: z.ZodType): JsonObject {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-07', unrepresentable: 'any' }) as JsonObject;
  return rest;
}

function messageId(type: string): string {
  return type.replace(/[^a-zA-Z0-9]+(.)/g, (_match, next: string) => next.toUpperCase());
}

function headersSchema(topic: TopicContract): JsonObject {
  const text = (description: string, extra: JsonObject = {}) => ({ type: 'string', description, ...extra });
  const required: string[] = [
    HEADERS.specversion,
    HEADERS.id,
    HEADERS.source,
    HEADERS.type,
    HEADERS.time,
    HEADERS.organisationId,
    HEADERS.correlationId,
    HEADERS.contentType,
  ];
  if (topic.kind === 'request') required.push(HEADERS.actorId);
  return {
    type: 'object',
    description: 'CloudEvents 1.0 attributes, Kafka protocol binding, binary content mode.',
    required,
    properties: {
      [HEADERS.specversion]: text('CloudEvents spec version', { const: '1.0' }),
      [HEADERS.id]: text('Event id; consumers deduplicate on it', { format: 'uuid' }),
      [HEADERS.source]: text('Producing service, e.g. /postwire/publisher'),
      [HEADERS.type]: text('Event type, e.g. post.published'),
      [HEADERS.time]: text('When it happened', { format: 'date-time' }),
      [HEADERS.subject]: text('What the event is about when narrower than the key (e.g. the post id)'),
      [HEADERS.organisationId]: text('Extension: the organisation', { format: 'uuid' }),
      [HEADERS.correlationId]: text("Extension: the chain's id (the caller's X-Correlation-Id, the trace id, or the first event's id)", {
        pattern: '^[A-Za-z0-9._:-]{1,128}$',
      }),
      [HEADERS.causationId]: text('Extension: the event that caused this one', { format: 'uuid' }),
      [HEADERS.actorId]: text('Extension: the acting user (request events)', { format: 'uuid' }),
      [HEADERS.contentType]: text('Body media type', { const: CONTENT_TYPE }),
      [HEADERS.traceparent]: text('W3C trace context'),
      [HEADERS.tracestate]: text('W3C trace context vendor state'),
    },
  };
}

function message(topic: TopicContract, event: EventDefinition): JsonObject {
  return {
    name: event.type,
    title: event.type,
    summary: event.summary,
    contentType: CONTENT_TYPE,
    headers: headersSchema(topic),
    payload: jsonSchema(event.data),
    bindings: {
      kafka: {
        key: { type: 'string', format: 'uuid', description: 'socialAccountId: one account\'s events stay in order' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

/** The AsyncAPI 3 document of the event catalogue: one channel per topic and per dead-letter topic. */
export function buildAsyncApiDocument(options: AsyncApiOptions = {}): JsonObject {
  const topics = options.topics ?? CATALOGUE;
  const servers = options.servers ?? { local: { host: '127.0.0.1:9092', description: 'infra/kafka (KRaft, one node)' } };
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  const messages: JsonObject = {};

  for (const topic of topics) {
    const channelMessages: JsonObject = {};
    for (const event of topic.events) {
      const id = messageId(event.type);
      messages[id] = message(topic, event);
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
    }
    channels[topic.id] = {
      address: topic.name,
      title: topic.title,
      description: `${topic.description} Produced by ${topic.producer}; consumed by ${topic.consumers.join(', ')}.`,
      messages: channelMessages,
      bindings: { kafka: { topic: topic.name, bindingVersion: KAFKA_BINDING_VERSION } },
    };
    const dlqId = `${topic.id}DeadLetter`;
    channels[dlqId] = {
      address: deadLetterTopicName(topic.name),
      title: `${topic.title} (dead letters)`,
      description:
        `Messages from ${topic.name} a consumer could not process: the original key, value and headers, plus ` +
        `${Object.values(DEAD_LETTER_HEADERS).join(', ')}.`,
      messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
      bindings: { kafka: { topic: deadLetterTopicName(topic.name), bindingVersion: KAFKA_BINDING_VERSION } },
    };
    operations[`send${topic.id[0]?.toUpperCase()}${topic.id.slice(1)}`] = {
      action: 'send',
      title: `${topic.producer} sends ${topic.title.toLowerCase()}`,
      summary: `Published by ${topic.producer} through its transactional outbox.`,
      channel: { $ref: `#/channels/${topic.id}` },
      messages: topic.events.map((event) => ({ $ref: `#/channels/${topic.id}/messages/${messageId(event.type)}` })),
    };
    for (const consumer of topic.consumers) {
      operations[`${consumer}Receives${topic.id[0]?.toUpperCase()}${topic.id.slice(1)}`] = {
        action: 'receive',
        title: `${consumer} receives ${topic.title.toLowerCase()}`,
        summary: `Validated at the edge, applied once (inbox), offsets committed after the transaction.`,
        channel: { $ref: `#/channels/${topic.id}` },
        messages: topic.events.map((event) => ({ $ref: `#/channels/${topic.id}/messages/${messageId(event.type)}` })),
      };
    }
  }

  messages.deadLetter = {
    name: 'dead-letter',
    title: 'Dead-lettered message',
    summary: 'The original record, unchanged, with the reason it could not be processed.',
    headers: {
      type: 'object',
      required: [DEAD_LETTER_HEADERS.reason, DEAD_LETTER_HEADERS.originalTopic],
      properties: Object.fromEntries(Object.values(DEAD_LETTER_HEADERS).map((name) => [name, { type: 'string' }])),
    },
    payload: { description: 'The original value, byte for byte (usually JSON, but it may be what failed to parse).' },
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Postwire events',
      version: options.version ?? '1.0.0',
      description:
        'The event catalogue of Postwire. CloudEvents 1.0 in Kafka binary mode; topics carry a major version; ' +
        'the key is the social account id. Generated from @postwire/contracts.',
    },
    defaultContentType: CONTENT_TYPE,
    servers: Object.fromEntries(
      Object.entries(servers).map(([id, server]) => [id, { host: server.host, protocol: 'kafka', description: server.description }]),
    ),
    channels,
    operations,
    components: { messages },
  };
}
