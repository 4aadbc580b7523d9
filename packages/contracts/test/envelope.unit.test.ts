import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ContractViolationError,
  accountEvents,
  createEventReader,
  encodeEvent,
  postEvents,
  postRequests,
  readEnvelope,
} from '../src/index.ts';
import { fakeCiphertext, publishedEvent } from './fixtures.ts';

const source = '/postwire/publisher';
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
const fixedId = '0f8fad5b-d9cb-469f-a165-70867728950e';
const fixedNow = () => new Date('2026-03-01T10:00:00.000Z');

/** Expects `run` to throw a ContractViolationError and returns it. */
function violation(run: () => unknown): ContractViolationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolationError);
    return error as ContractViolationError;
  }
  throw new Error('expected a ContractViolationError, nothing was thrown');
}

/** A valid record as the publisher writes it, for the decoding tests to break one part at a time. */
function validRecord() {
  const event = publishedEvent();
  return encodeEvent(postEvents, event, { source }).message;
}

/** An event with every optional attribute stated, encoded with a fixed id and clock. */
function fullyStated(correlationId: string) {
  const event = publishedEvent();
  const causationId = randomUUID();
  const actorId = randomUUID();
  const encoded = encodeEvent(
    postEvents,
    { ...event, metadata: { ...event.metadata, correlationId, causationId, actorId, traceparent, tracestate } },
    { source, generateId: () => fixedId, now: fixedNow },
  );
  return { event, causationId, actorId, encoded };
}

describe('CloudEvents envelope (Kafka binary mode)', () => {
  it('maps an event to exactly the ce_* headers, a JSON body and the social account as key', () => {
    const { event, causationId, actorId, encoded } = fullyStated('req-42.a:b_c');

    expect(encoded.id).toBe(fixedId);
    expect(encoded.type).toBe('post.published');
    expect(encoded.topic).toBe('postwire.post-events.v1');
    expect(encoded.message.key).toBe(event.data.socialAccountId);
    expect(JSON.parse(encoded.message.value)).toEqual(event.data);
    expect(encoded.message.headers).toStrictEqual({
      ce_specversion: '1.0',
      ce_id: fixedId,
      ce_source: '/postwire/publisher',
      ce_type: 'post.published',
      ce_time: '2026-03-01T10:00:00.000Z',
      ce_subject: event.data.postId,
      ce_organisationid: event.metadata.organisationId,
      ce_correlationid: 'req-42.a:b_c',
      ce_causationid: causationId,
      ce_actorid: actorId,
      'content-type': 'application/json',
      traceparent,
      tracestate,
    });
  });

  it('leaves out the optional headers an event does not have, and starts a new chain at its own id', () => {
    const event = publishedEvent();
    const encoded = encodeEvent(accountEvents, {
      type: 'account.token-refreshed',
      data: { socialAccountId: randomUUID(), platform: 'facebook', accessToken: fakeCiphertext(), tokenExpiresAt: null, refreshedAt: '2026-03-01T09:00:00.000Z' },
      metadata: { organisationId: event.metadata.organisationId },
    }, { source: '/postwire/accounts', generateId: () => fixedId, now: fixedNow });

    expect(encoded.message.headers).toStrictEqual({
      ce_specversion: '1.0',
      ce_id: fixedId,
      ce_source: '/postwire/accounts',
      ce_type: 'account.token-refreshed',
      ce_time: '2026-03-01T10:00:00.000Z',
      ce_organisationid: event.metadata.organisationId,
      ce_correlationid: fixedId,
      'content-type': 'application/json',
    });
  });

  it('keeps an id and time the producer states, and stamps a current time and a UUID otherwise', () => {
    const event = publishedEvent();
    const stated = encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, id: fixedId, time: '2026-01-02T03:04:05.000Z' } }, { source });
    expect(stated.id).toBe(fixedId);
    expect(stated.message.headers.ce_time).toBe('2026-01-02T03:04:05.000Z');

    const before = Date.now();
    const stamped = encodeEvent(postEvents, event, { source });
    expect(stamped.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const time = Date.parse(stamped.message.headers.ce_time ?? '');
    expect(time).toBeGreaterThanOrEqual(before - 1);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('round-trips through the consumer edge to the same type, data and metadata', () => {
    const event = publishedEvent();
    const causationId = randomUUID();
    const encoded = encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, causationId, tracestate } }, { source });
    const decoded = createEventReader(postEvents).decode(postEvents.name, encoded.message);

    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.event.type).toBe('post.published');
    expect(decoded.event.data).toEqual(event.data);
    expect(decoded.event.metadata).toMatchObject({
      id: encoded.id,
      organisationId: event.metadata.organisationId,
      correlationId: encoded.id,
      causationId,
      tracestate,
    });
  });

  it('refuses to produce a request event without the acting user', () => {
    const request = {
      type: 'post.publish-requested' as const,
      data: { postId: randomUUID(), socialAccountId: randomUUID() },
      metadata: { organisationId: randomUUID() },
    };
    const refused = violation(() => encodeEvent(postRequests, request, { source: '/postwire/gateway' }));
    expect(refused.reason).toBe('invalid-metadata');
    expect(refused.message).toBe('post.publish-requested is a request: metadata.actorId (the acting user) is required');
    expect(refused.issues).toEqual([]);
    const withActor = { ...request, metadata: { ...request.metadata, actorId: randomUUID() } };
    expect(encodeEvent(postRequests, withActor, { source: '/postwire/gateway' }).message.headers.ce_actorid).toBe(
      withActor.metadata.actorId,
    );
  });

  it('refuses an event type its topic does not carry', () => {
    const event = { ...publishedEvent(), type: 'post.teleported' };
    // @ts-expect-error: the type is not in the post-events catalogue, and encoding refuses it at run time too
    const refused = violation(() => encodeEvent(postEvents, event, { source }));
    expect(refused.reason).toBe('unknown-type');
    expect(refused.message).toBe('post.teleported is not an event of postwire.post-events.v1');
    expect(refused.name).toBe('ContractViolationError');
  });

  it('refuses to produce a payload that breaks the contract, naming the field', () => {
    const event = publishedEvent();
    const refused = violation(() => encodeEvent(postEvents, { ...event, data: { ...event.data, mediaCount: 11 } }, { source }));
    expect(refused.reason).toBe('schema-mismatch');
    expect(refused.message).toMatch(/^post\.published does not match its contract: .*mediaCount/s);
    expect(refused.issues.map((issue) => issue.path)).toEqual([['mediaCount']]);
  });

  it.each([
    ['an organisation that is not a UUID', { organisationId: 'acme' }, 'organisationId'],
    ['a correlation id with a space', { correlationId: 'two words' }, 'correlationId'],
    ['a correlation id of 129 characters', { correlationId: 'a'.repeat(129) }, 'correlationId'],
    ['a causation id that is not a UUID', { causationId: 'cause' }, 'causationId'],
    ['a malformed traceparent', { traceparent: '00-xyz-01' }, 'traceparent'],
    ['text before the traceparent', { traceparent: `x${traceparent}` }, 'traceparent'],
    ['text after the traceparent', { traceparent: `${traceparent}-x` }, 'traceparent'],
    ['a tracestate over 512 characters', { tracestate: 'k=' + 'v'.repeat(511) }, 'tracestate'],
  ])('refuses to produce an envelope with %s', (_what, metadata, field) => {
    const event = publishedEvent();
    const refused = violation(() => encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, ...metadata } }, { source }));
    expect(refused.reason).toBe('invalid-metadata');
    expect(refused.message).toMatch(/^post\.published envelope is invalid: /);
    expect(refused.issues.map((issue) => issue.path)).toEqual([[field]]);
  });

  it('says which characters a correlation id may use', () => {
    const event = publishedEvent();
    const refused = violation(() => encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, correlationId: 'a/b' } }, { source }));
    expect(refused.issues.map((issue) => issue.message)).toEqual(['must be 1-128 of A-Z a-z 0-9 . _ : -']);
  });

  it('accepts a correlation id of exactly 128 allowed characters', () => {
    const event = publishedEvent();
    const correlationId = 'A-z_0.9:'.repeat(16);
    const encoded = encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, correlationId } }, { source });
    expect(encoded.message.headers.ce_correlationid).toBe(correlationId);
  });

  it('refuses a plaintext token where an encrypted secret belongs', () => {
    const connected = {
      type: 'account.token-refreshed' as const,
      data: {
        socialAccountId: randomUUID(),
        platform: 'facebook' as const,
        accessToken: fakeCiphertext(),
        tokenExpiresAt: null,
        refreshedAt: new Date().toISOString(),
      },
      metadata: { organisationId: randomUUID() },
    };
    expect(encodeEvent(accountEvents, connected, { source: '/postwire/accounts' }).type).toBe('account.token-refreshed');
    const plaintext = { ...connected, data: { ...connected.data, accessToken: 'EAAGm0PX4ZCpsBA...' } };
    // @ts-expect-error: a plain string is not an EncryptedSecret, and the schema refuses it at run time too
    expect(() => encodeEvent(accountEvents, plaintext, { source: '/postwire/accounts' })).toThrow(/enc:v1/);
  });
});

describe('reading the envelope at the consumer edge', () => {
  it('reads the attributes and the JSON body of a valid record', () => {
    const { event, causationId, actorId, encoded } = fullyStated('req-7');
    expect(readEnvelope(encoded.message)).toStrictEqual({
      ok: true,
      type: 'post.published',
      metadata: {
        id: fixedId,
        source: '/postwire/publisher',
        time: '2026-03-01T10:00:00.000Z',
        subject: event.data.postId,
        organisationId: event.metadata.organisationId,
        correlationId: 'req-7',
        causationId,
        actorId,
        traceparent,
        tracestate,
      },
      body: event.data,
    });
  });

  it('starts a new chain at the event id when a foreign producer sends no correlation id', () => {
    const record = validRecord();
    const { ce_correlationid: _dropped, ...headers } = record.headers;
    const read = readEnvelope({ ...record, headers });
    expect(read.ok && read.metadata.correlationId).toBe(record.headers.ce_id);
  });

  it.each(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_organisationid'])(
    'refuses a record without %s, naming it',
    (name) => {
      const record = validRecord();
      for (const value of [undefined, '']) {
        const read = readEnvelope({ ...record, headers: { ...record.headers, [name]: value } });
        expect(read).toMatchObject({ ok: false, reason: 'missing-header', detail: `missing CloudEvents headers: ${name}` });
      }
    },
  );

  it('names every missing header and omits the type when there is none', () => {
    expect(readEnvelope({ key: null, value: '{}', headers: {} })).toStrictEqual({
      ok: false,
      reason: 'missing-header',
      detail: 'missing CloudEvents headers: ce_specversion, ce_id, ce_source, ce_type, ce_time, ce_organisationid',
    });
  });

  it('refuses another CloudEvents spec version', () => {
    const record = validRecord();
    expect(readEnvelope({ ...record, headers: { ...record.headers, ce_specversion: '0.3' } })).toStrictEqual({
      ok: false,
      reason: 'unsupported-specversion',
      detail: 'ce_specversion 0.3 is not 1.0',
      type: 'post.published',
    });
  });

  it('refuses a body that is not JSON by its content type, and accepts JSON with parameters or no content type', () => {
    const record = validRecord();
    expect(readEnvelope({ ...record, headers: { ...record.headers, 'content-type': 'application/avro' } })).toStrictEqual({
      ok: false,
      reason: 'unsupported-content-type',
      detail: 'content-type application/avro is not application/json',
      type: 'post.published',
    });
    expect(readEnvelope({ ...record, headers: { ...record.headers, 'content-type': 'text/application/json' } })).toMatchObject({
      ok: false,
      reason: 'unsupported-content-type',
    });
    expect(readEnvelope({ ...record, headers: { ...record.headers, 'content-type': 'application/json; charset=utf-8' } }).ok).toBe(true);
    expect(readEnvelope({ ...record, headers: { ...record.headers, 'content-type': undefined } }).ok).toBe(true);
  });

  it('refuses invalid attributes', () => {
    const record = validRecord();
    const read = readEnvelope({ ...record, headers: { ...record.headers, ce_organisationid: 'acme' } });
    expect(read).toMatchObject({ ok: false, reason: 'invalid-metadata', type: 'post.published' });
    expect(!read.ok && read.detail).toContain('organisationId');
  });

  it('refuses a tombstone and a body that is not JSON', () => {
    const record = validRecord();
    expect(readEnvelope({ ...record, value: null })).toStrictEqual({
      ok: false,
      reason: 'invalid-json',
      detail: 'the record has no value (tombstone)',
      type: 'post.published',
    });
    const broken = readEnvelope({ ...record, value: '{"postId": ' });
    expect(broken).toMatchObject({ ok: false, reason: 'invalid-json', type: 'post.published' });
    expect(!broken.ok && broken.detail).toMatch(/JSON/);
  });
});

describe('consumer edge classification', () => {
  it.each([
    ['invalid-json', (valid: ReturnType<typeof validRecord>) => ({ ...valid, value: '{"postId": ' })],
    ['missing-header', (valid: ReturnType<typeof validRecord>) => ({ ...valid, headers: { ...valid.headers, ce_id: undefined } })],
    ['unsupported-specversion', (valid: ReturnType<typeof validRecord>) => ({ ...valid, headers: { ...valid.headers, ce_specversion: '0.3' } })],
    ['unknown-type', (valid: ReturnType<typeof validRecord>) => ({ ...valid, headers: { ...valid.headers, ce_type: 'post.teleported' } })],
    ['schema-mismatch', (valid: ReturnType<typeof validRecord>) => ({ ...valid, value: JSON.stringify({ ...JSON.parse(valid.value), platform: 'myspace' }) })],
    ['key-mismatch', (valid: ReturnType<typeof validRecord>) => ({ ...valid, key: randomUUID() })],
    ['invalid-metadata', (valid: ReturnType<typeof validRecord>) => ({ ...valid, headers: { ...valid.headers, ce_organisationid: 'acme' } })],
  ])('classifies %s', (reason, breakRecord) => {
    const decoded = createEventReader(postEvents).decode(postEvents.name, breakRecord(validRecord()));
    expect(decoded).toMatchObject({ ok: false, reason });
  });
});
