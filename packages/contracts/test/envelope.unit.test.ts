import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ContractViolationError,
  HEADERS,
  accountEvents,
  createEventReader,
  encodeEvent,
  postEvents,
  postRequests,
} from '../src/index.ts';
import { fakeCiphertext, publishedEvent } from './fixtures.ts';

const source = '/postwire/publisher';

describe('CloudEvents envelope (Kafka binary mode)', () => {
  it('maps an event to ce_* headers, a JSON body and the social account as key', () => {
    const event = publishedEvent();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const encoded = encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, traceparent } }, { source });

    expect(encoded.topic).toBe('postwire.post-events.v1');
    expect(encoded.message.key).toBe(event.data.socialAccountId);
    expect(JSON.parse(encoded.message.value)).toEqual(event.data);
    expect(encoded.message.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: encoded.id,
      ce_source: source,
      ce_type: 'post.published',
      ce_subject: event.data.postId,
      ce_organisationid: event.metadata.organisationId,
      ce_correlationid: encoded.id,
      'content-type': 'application/json',
      traceparent,
    });
    expect(new Date(encoded.message.headers[HEADERS.time] ?? '').toString()).not.toBe('Invalid Date');
  });

  it('round-trips through the consumer edge to the same type, data and metadata', () => {
    const event = publishedEvent();
    const causationId = randomUUID();
    const encoded = encodeEvent(postEvents, { ...event, metadata: { ...event.metadata, causationId } }, { source });
    const decoded = createEventReader(postEvents).decode(postEvents.name, encoded.message);

    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.event.type).toBe('post.published');
    expect(decoded.event.data).toEqual(event.data);
    expect(decoded.event.metadata).toMatchObject({ id: encoded.id, organisationId: event.metadata.organisationId, causationId });
  });

  it('refuses to produce a request event without the acting user', () => {
    const request = {
      type: 'post.publish-requested' as const,
      data: { postId: randomUUID(), socialAccountId: randomUUID() },
      metadata: { organisationId: randomUUID() },
    };
    expect(() => encodeEvent(postRequests, request, { source: '/postwire/gateway' })).toThrow(/actorId/);
    const withActor = { ...request, metadata: { ...request.metadata, actorId: randomUUID() } };
    expect(encodeEvent(postRequests, withActor, { source: '/postwire/gateway' }).message.headers.ce_actorid).toBe(
      withActor.metadata.actorId,
    );
  });

  it('refuses to produce a payload that breaks the contract, naming the field', () => {
    const event = publishedEvent();
    const broken = { ...event, data: { ...event.data, mediaCount: 0 } };
    expect(() => encodeEvent(postEvents, broken, { source })).toThrow(ContractViolationError);
    expect(() => encodeEvent(postEvents, broken, { source })).toThrow(/mediaCount/);
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

describe('consumer edge classification', () => {
  const reader = createEventReader(postEvents);
  const valid = encodeEvent(postEvents, publishedEvent(), { source }).message;

  it.each([
    ['invalid-json', { ...valid, value: '{"postId": ' }],
    ['missing-header', { ...valid, headers: { ...valid.headers, ce_id: undefined } }],
    ['unsupported-specversion', { ...valid, headers: { ...valid.headers, ce_specversion: '0.3' } }],
    ['unknown-type', { ...valid, headers: { ...valid.headers, ce_type: 'post.teleported' } }],
    ['schema-mismatch', { ...valid, value: JSON.stringify({ ...JSON.parse(valid.value), platform: 'myspace' }) }],
    ['key-mismatch', { ...valid, key: randomUUID() }],
    ['invalid-metadata', { ...valid, headers: { ...valid.headers, ce_organisationid: 'acme' } }],
  ])('classifies %s', (reason, message) => {
    const decoded = reader.decode(postEvents.name, message);
    expect(decoded).toMatchObject({ ok: false, reason });
  });
});
