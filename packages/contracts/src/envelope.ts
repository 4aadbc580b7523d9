import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EventOf, TopicContract } from './define.ts';
import { Timestamp, Uuid } from './primitives.ts';

/**
 * CloudEvents 1.0, Kafka protocol binding, binary content mode: the attributes travel as `ce_*`
 * headers and the body is the event's `data` as JSON. Extension names are lower-case alphanumerics
 * as the spec requires. `traceparent`/`tracestate` are W3C trace context (CloudEvents distributed
 * tracing extension).
 */
export const HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  source: 'ce_source',
  type: 'ce_type',
  time: 'ce_time',
  subject: 'ce_subject',
  organisationId: 'ce_organisationid',
  correlationId: 'ce_correlationid',
  causationId: 'ce_causationid',
  actorId: 'ce_actorid',
  contentType: 'content-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export const CONTENT_TYPE = 'application/json';
export const SPEC_VERSION = '1.0';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export const EventMetadataSchema = z.object({
  id: Uuid,
  source: z.string().min(1),
  time: Timestamp,
  subject: z.string().min(1).optional(),
  organisationId: Uuid,
  // A chain started at the edge takes the caller's X-Correlation-Id or the request's trace id, so
  // this is a bounded token rather than a UUID; an event-started chain uses the first event's id.
  correlationId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ : -'),
  causationId: Uuid.optional(),
  actorId: Uuid.optional(),
  traceparent: z.string().regex(TRACEPARENT).optional(),
  tracestate: z.string().max(512).optional(),
});

/** The envelope attributes a handler sees next to `type` and `data`. */
export type EventMetadata = Readonly<z.infer<typeof EventMetadataSchema>>;

/** What a producer states; id, time and correlation default (a new chain starts at this event). */
export type MetadataInput = Readonly<
  Partial<Pick<EventMetadata, 'id' | 'time' | 'correlationId' | 'causationId' | 'actorId' | 'traceparent' | 'tracestate'>> & {
    organisationId: string;
  }
>;

export type OutgoingEvent<Topic extends TopicContract> = EventOf<Topic> & { readonly metadata: MetadataInput };
export type IncomingEvent<Topic extends TopicContract> = EventOf<Topic> & { readonly metadata: EventMetadata };

/** A Kafka record independent of any client library. */
export type WireMessage = {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
};

export type EncodedEvent = {
  readonly id: string;
  readonly type: string;
  readonly topic: string;
  readonly message: WireMessage;
};

export type ContractViolationReason = 'unknown-type' | 'schema-mismatch' | 'invalid-metadata';

/** Thrown when code tries to produce an event its contract does not allow. */
export class ContractViolationError extends Error {
  readonly reason: ContractViolationReason;
  readonly issues: readonly z.core.$ZodIssue[];
  constructor(reason: ContractViolationReason, message: string, issues: readonly z.core.$ZodIssue[] = []) {
    super(message);
    this.name = 'ContractViolationError';
    this.reason = reason;
    this.issues = issues;
  }
}

export type EncodeOptions = {
  /** CloudEvents source of the producing service, e.g. `/postwire/publisher`. */
  readonly source: string;
  readonly generateId?: () => string;
  readonly now?: () => Date;
};

/** Validates an event against its topic's contract and maps it to a Kafka record. */
export function encodeEvent<Topic extends TopicContract>(
  topic: Topic,
  event: OutgoingEvent<Topic>,
  options: EncodeOptions,
): EncodedEvent {
  const definition = topic.definition(event.type);
  if (!definition) {
    throw new ContractViolationError('unknown-type', `${event.type} is not an event of ${topic.name}`);
  }
  const parsed = definition.data.safeParse(event.data);
  if (!parsed.success) {
    throw new ContractViolationError(
      'schema-mismatch',
      `${event.type} does not match its contract: ${z.prettifyError(parsed.error)}`,
      parsed.error.issues,
    );
  }
  const data = parsed.data;
  const id = event.metadata.id ?? (options.generateId ?? randomUUID)();
  const candidate = {
    id,
    source: options.source,
    time: event.metadata.time ?? (options.now?.() ?? new Date()).toISOString(),
    subject: definition.subject?.(data),
    organisationId: event.metadata.organisationId,
    correlationId: event.metadata.correlationId ?? id,
    causationId: event.metadata.causationId,
    actorId: event.metadata.actorId,
    traceparent: event.metadata.traceparent,
    tracestate: event.metadata.tracestate,
  };
  const metadata = EventMetadataSchema.safeParse(candidate);
  if (!metadata.success) {
    throw new ContractViolationError(
      'invalid-metadata',
      `${event.type} envelope is invalid: ${z.prettifyError(metadata.error)}`,
      metadata.error.issues,
    );
  }
  if (topic.kind === 'request' && !metadata.data.actorId) {
    throw new ContractViolationError('invalid-metadata', `${event.type} is a request: metadata.actorId (the acting user) is required`);
  }
  return {
    id,
    type: event.type,
    topic: topic.name,
    message: { key: data.socialAccountId, value: JSON.stringify(data), headers: toHeaders(event.type, metadata.data) },
  };
}

export function toHeaders(type: string, metadata: EventMetadata): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADERS.specversion]: SPEC_VERSION,
    [HEADERS.id]: metadata.id,
    [HEADERS.source]: metadata.source,
    [HEADERS.type]: type,
    [HEADERS.time]: metadata.time,
    [HEADERS.organisationId]: metadata.organisationId,
    [HEADERS.correlationId]: metadata.correlationId,
    [HEADERS.contentType]: CONTENT_TYPE,
  };
  const optional: [string, string | undefined][] = [
    [HEADERS.subject, metadata.subject],
    [HEADERS.causationId, metadata.causationId],
    [HEADERS.actorId, metadata.actorId],
    [HEADERS.traceparent, metadata.traceparent],
    [HEADERS.tracestate, metadata.tracestate],
  ];
  for (const [name, value] of optional) if (value !== undefined) headers[name] = value;
  return headers;
}

/** A record as read from Kafka, already reduced to strings. */
export type IncomingMessage = {
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Readonly<Record<string, string | undefined>>;
};

export type DecodeFailureReason =
  | 'missing-header'
  | 'unsupported-specversion'
  | 'unsupported-content-type'
  | 'invalid-metadata'
  | 'invalid-json'
  | 'unknown-topic'
  | 'unknown-type'
  | 'schema-mismatch'
  | 'key-mismatch';

export type DecodeFailure = {
  readonly ok: false;
  readonly reason: DecodeFailureReason;
  readonly detail: string;
  readonly type?: string;
};

export type EnvelopeResult =
  | { readonly ok: true; readonly type: string; readonly metadata: EventMetadata; readonly body: unknown }
  | DecodeFailure;

/** Reads the CloudEvents envelope and parses the JSON body; the payload is checked by the caller. */
export function readEnvelope(message: IncomingMessage): EnvelopeResult {
  const header = (name: string) => message.headers[name];
  const type = header(HEADERS.type);
  const missing = [HEADERS.specversion, HEADERS.id, HEADERS.source, HEADERS.type, HEADERS.time, HEADERS.organisationId]
    .filter((name) => !header(name));
  if (missing.length > 0) {
    return failure('missing-header', `missing CloudEvents headers: ${missing.join(', ')}`, type);
  }
  if (header(HEADERS.specversion) !== SPEC_VERSION) {
    return failure('unsupported-specversion', `ce_specversion ${header(HEADERS.specversion)} is not ${SPEC_VERSION}`, type);
  }
  const contentType = header(HEADERS.contentType);
  if (contentType !== undefined && !contentType.startsWith(CONTENT_TYPE)) {
    return failure('unsupported-content-type', `content-type ${contentType} is not ${CONTENT_TYPE}`, type);
  }
  const id = header(HEADERS.id);
  const metadata = EventMetadataSchema.safeParse({
    id,
    source: header(HEADERS.source),
    time: header(HEADERS.time),
    subject: header(HEADERS.subject),
    organisationId: header(HEADERS.organisationId),
    // A producer outside this catalogue may omit it; the event then starts its own chain.
    correlationId: header(HEADERS.correlationId) ?? id,
    causationId: header(HEADERS.causationId),
    actorId: header(HEADERS.actorId),
    traceparent: header(HEADERS.traceparent),
    tracestate: header(HEADERS.tracestate),
  });
  if (!metadata.success) return failure('invalid-metadata', z.prettifyError(metadata.error), type);
  if (message.value === null) return failure('invalid-json', 'the record has no value (tombstone)', type);
  let body: unknown;
  try {
    body = JSON.parse(message.value);
  } catch (error) {
    return failure('invalid-json', error instanceof Error ? error.message : String(error), type);
  }
  return { ok: true, type: type ?? '', metadata: metadata.data, body };
}

export function failure(reason: DecodeFailureReason, detail: string, type?: string): DecodeFailure {
  return type === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, type };
}
