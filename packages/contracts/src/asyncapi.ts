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

/** Values the examples use, so one example reads like the next. */
const EXAMPLE = {
  organisationId: '4f9c2b1e-7d3a-4c5b-9e8f-0a1b2c3d4e5f',
  actorId: '7a1d9e3c-2b4f-4e6a-8c0d-1e2f3a4b5c6d',
  eventId: '0b7c8d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e',
  correlationId: '5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11',
  time: '2026-03-08T14:00:00.000Z',
  uuid: '8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f',
} as const;

/** Ids by the field that holds them, so an example's post and account are not the same id. */
const NAMED_IDS: Readonly<Record<string, string>> = {
  organisationId: EXAMPLE.organisationId,
  postId: '8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f',
  socialAccountId: '2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c',
  requestId: '3e5a7c9b-0d2f-4a6b-8c1e-7f9a0b2c4d6e',
  contentId: '6b8d0f2a-4c6e-4a8b-9d1f-3e5a7c9b0d2f',
  userId: EXAMPLE.actorId,
};

/**
 * An example for each string pattern the contracts use; a pattern missing here fails the contracts'
 * tests (every generated example is checked against its event's schema), not the document silently.
 */
const PATTERN_EXAMPLES: Readonly<Record<string, string>> = {
  '^enc:v1:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$': 'enc:v1:key-2026-01:q1w2e3r4t5y6u7i8:Y2lwaGVydGV4dA:a1b2c3d4e5f6g7h8i9j0kl',
  '^[A-Za-z0-9._]{1,30}$': 'postwire.studio',
  '^[^\\s#]{1,100}$': 'launchday',
  '^[0-9]{1,64}$': '17841400008460056',
  '^[a-f0-9]{64}$': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  '^[A-Za-z0-9._:-]{1,128}$': EXAMPLE.correlationId,
};

/**
 * A valid example of a JSON schema (draft 7, as zod writes it): the required properties only, one item
 * per array, the first enum value, the least number a bound allows. Meant for the documents, where a
 * reader wants a plausible payload; the contracts' tests parse every one with its event's schema.
 */
export function exampleOf(schema: JsonObject, name = ''): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const chosen = (options as JsonObject[]).find((option) => option.type !== 'null') ?? options[0];
      return exampleOf(chosen as JsonObject, name);
    }
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...(schema.allOf as JsonObject[]).map((part) => exampleOf(part, name)));
  }
  const type = Array.isArray(schema.type) ? (schema.type as unknown[]).find((entry) => entry !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
      const required = new Set((schema.required ?? []) as string[]);
      // An object of optional fields only (a change set) is shown changing its first one, not as {}.
      const [first] = Object.keys(properties);
      if (required.size === 0 && first !== undefined) required.add(first);
      return Object.fromEntries(Object.entries(properties).filter(([key]) => required.has(key)).map(([key, property]) => [key, exampleOf(property, key)]));
    }
    case 'array': {
      const count = Math.max(typeof schema.minItems === 'number' ? schema.minItems : 1, schema.maxItems === 0 ? 0 : 1);
      const items = (schema.items ?? {}) as JsonObject;
      return Array.from({ length: count }, (_unused, index) => withPosition(exampleOf(items, name), index));
    }
    case 'integer':
    case 'number':
      return numberExample(schema);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string':
      return stringExample(schema, name);
    default:
      return {};
  }
}

/** Array items that carry a `position` (media lists) must each have their own. */
function withPosition(item: unknown, index: number): unknown {
  return item !== null && typeof item === 'object' && 'position' in item ? { ...item, position: index } : item;
}

function numberExample(schema: JsonObject): number {
  if (typeof schema.minimum === 'number') return schema.minimum;
  if (typeof schema.exclusiveMinimum === 'number') return schema.type === 'integer' ? Math.floor(schema.exclusiveMinimum) + 1 : schema.exclusiveMinimum + 1;
  return typeof schema.maximum === 'number' ? Math.min(0, schema.maximum) : 0;
}

function stringExample(schema: JsonObject, name: string): string {
  switch (schema.format) {
    case 'uuid':
      return NAMED_IDS[name] ?? EXAMPLE.uuid;
    case 'date-time':
      return EXAMPLE.time;
    case 'uri':
      return 'https://cdn.example.com/media/launch.jpg';
    case 'email':
      return 'editor@example.com';
    default:
      break;
  }
  if (typeof schema.pattern === 'string') {
    const example = PATTERN_EXAMPLES[schema.pattern];
    if (example === undefined) throw new Error(`no example for the pattern ${schema.pattern} (${name}): add one to PATTERN_EXAMPLES`);
    return example;
  }
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 1;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : 64;
  const text = name === '' ? 'text' : `example ${name}`;
  return text.padEnd(minLength, '.').slice(0, maxLength);
}

function headersExample(topic: TopicContract, event: EventDefinition, payload: unknown): JsonObject {
  const subject = event.subject?.(payload as never);
  return {
    [HEADERS.specversion]: '1.0',
    [HEADERS.id]: EXAMPLE.eventId,
    [HEADERS.source]: `/postwire/${topic.producer}`,
    [HEADERS.type]: event.type,
    [HEADERS.time]: EXAMPLE.time,
    ...(subject === undefined ? {} : { [HEADERS.subject]: subject }),
    [HEADERS.organisationId]: EXAMPLE.organisationId,
    [HEADERS.correlationId]: EXAMPLE.correlationId,
    ...(topic.kind === 'request' ? { [HEADERS.actorId]: EXAMPLE.actorId } : {}),
    [HEADERS.contentType]: CONTENT_TYPE,
  };
}

/** The generated example of each event's payload, keyed by event type (the contracts' tests parse them). */
export function eventExamples(topics: readonly TopicContract[] = CATALOGUE): Map<string, unknown> {
  return new Map(topics.flatMap((topic) => topic.events.map((event) => [event.type, exampleOf(jsonSchema(event.data))] as const)));
}

function headersSchema(topic: TopicContract, event: EventDefinition): JsonObject {
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
      [HEADERS.type]: text('Event type: this message is only ever this one', { const: event.type }),
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
  const payload = jsonSchema(event.data);
  const example = exampleOf(payload);
  return {
    name: event.type,
    title: event.type,
    summary: event.summary,
    contentType: CONTENT_TYPE,
    headers: headersSchema(topic, event),
    payload,
    correlationId: {
      description:
        "The chain this event belongs to: the caller's X-Correlation-Id (or the trace id) on a request, carried unchanged by every event it causes.",
      location: `$message.header#/${HEADERS.correlationId}`,
    },
    examples: [{ name: messageId(event.type), summary: `A ${event.type} event`, headers: headersExample(topic, event, example), payload: example }],
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
      description: "The original record's headers (CloudEvents attributes included), plus the dead-letter headers.",
      required: [DEAD_LETTER_HEADERS.reason, DEAD_LETTER_HEADERS.originalTopic],
      properties: {
        ...Object.fromEntries(Object.values(DEAD_LETTER_HEADERS).map((name) => [name, { type: 'string' }])),
        [HEADERS.type]: { type: 'string', description: "The original event's type, when it had one" },
        [HEADERS.correlationId]: { type: 'string', description: "The original event's correlation id, when it had one" },
      },
    },
    payload: { description: 'The original value, byte for byte (usually JSON, but it may be what failed to parse).' },
    correlationId: {
      description: "The original event's chain, so a dead letter can be traced to the request that started it.",
      location: `$message.header#/${HEADERS.correlationId}`,
    },
    examples: [
      {
        name: 'deadLetter',
        summary: 'A post request the publisher could not parse',
        headers: {
          [DEAD_LETTER_HEADERS.reason]: 'schema-mismatch',
          [DEAD_LETTER_HEADERS.error]: 'data.postId: Invalid UUID',
          [DEAD_LETTER_HEADERS.attempts]: '1',
          [DEAD_LETTER_HEADERS.originalTopic]: 'postwire.post-requests.v1',
          [DEAD_LETTER_HEADERS.originalPartition]: '2',
          [DEAD_LETTER_HEADERS.originalOffset]: '1042',
          [DEAD_LETTER_HEADERS.consumerGroup]: 'publisher',
          [DEAD_LETTER_HEADERS.failedAt]: EXAMPLE.time,
          [HEADERS.type]: 'post.scheduled',
          [HEADERS.correlationId]: EXAMPLE.correlationId,
        },
        payload: '{"postId":"not-a-uuid"}',
      },
    ],
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
