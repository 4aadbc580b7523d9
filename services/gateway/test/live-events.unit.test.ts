import { describe, expect, it } from 'vitest';
import { LIVE_EVENT_TYPES, bearerExpiry, canonicalTypes, formatSseComment, formatSseMessage, matchesFilter, parseTypeFilter, publicPayload, streamDeadline, typeFilterEntries } from '../src/domain/live-events.ts';
import { createEventHub } from '../src/events/event-hub.ts';

describe('live event types and filters', () => {
  it('covers the post and account events', () => {
    expect(LIVE_EVENT_TYPES).toContain('post.published');
    expect(LIVE_EVENT_TYPES).toContain('account.connected');
    expect(LIVE_EVENT_TYPES).toContain('token.expiring');
    expect(LIVE_EVENT_TYPES).not.toContain('post.drafted');
  });

  it('reads exact types and prefixes, and names every unknown entry', () => {
    const parsed = parseTypeFilter(['post.published', ' account.* ', '']);
    expect(parsed).toEqual({ ok: true, filter: { exact: new Set(['post.published']), prefixes: ['account.'] } });
    expect(parseTypeFilter(['post.exploded', 'post.*', 'nothing.*', 'post.drafted'])).toEqual({ ok: false, unknown: ['post.exploded', 'nothing.*', 'post.drafted'] });
    expect(parseTypeFilter([])).toEqual({ ok: true, filter: null });
    expect(parseTypeFilter([' ', ''])).toEqual({ ok: true, filter: null });
  });

  it('matches by exact type or prefix; no filter matches everything', () => {
    const parsed = parseTypeFilter(['post.failed', 'account.*']);
    if (!parsed.ok) throw new Error('expected a filter');
    expect(['post.failed', 'post.published', 'account.expired', 'token.expiring'].map((type) => matchesFilter(parsed.filter, type))).toEqual([true, false, true, false]);
    expect(matchesFilter(null, 'anything')).toBe(true);
    const twoPrefixes = parseTypeFilter(['post.*', 'account.*']);
    if (!twoPrefixes.ok) throw new Error('expected a filter');
    expect(matchesFilter(twoPrefixes.filter, 'account.expired')).toBe(true);
  });

  it('splits repeated and comma-separated query values', () => {
    expect(typeFilterEntries(undefined)).toEqual([]);
    expect(typeFilterEntries('a,b')).toEqual(['a', 'b']);
    expect(typeFilterEntries(['a', 'b,c'])).toEqual(['a', 'b', 'c']);
  });

  it('spells a filter one way, whatever the order, spacing and repeats, so two filters compare as text', () => {
    expect(canonicalTypes(['post.published', ' account.* ', 'post.published', ''])).toBe('account.*,post.published');
    expect(canonicalTypes(['account.*', 'post.published'])).toBe(canonicalTypes([' post.published', 'account.*']));
    expect(canonicalTypes(['post.failed'])).toBe('post.failed');
    expect(canonicalTypes([])).toBeNull();
    expect(canonicalTypes([' ', ''])).toBeNull();
  });
});

describe('the public payload', () => {
  it('drops token fields and anything encrypted, however deep, and keeps the rest as it is', () => {
    const ciphertext = 'enc:v1:k1:AAAAAAAAAAAAAAAA:abc:BBBBBBBBBBBBBBBBBBBBBB';
    expect(
      publicPayload({
        socialAccountId: 'a',
        accessToken: ciphertext,
        refreshToken: 'plain',
        secret: 'x',
        nested: { other: ciphertext, kept: 1, list: [ciphertext, 'fine', { token: 'x', ok: null }] },
        count: 0,
        flag: false,
      }),
    ).toEqual({ socialAccountId: 'a', nested: { kept: 1, list: ['fine', { ok: null }] }, count: 0, flag: false });
    expect(publicPayload('plain')).toBe('plain');
    // Token fields go whatever they hold; text that merely mentions a ciphertext stays.
    expect(publicPayload({ accessToken: 'EAAB-plain', appSecret: 'x', note: 'see enc:v1:k', older: 'enc:v12:k:a' })).toEqual({ note: 'see enc:v1:k' });
    expect(publicPayload(null)).toBeNull();
  });
});

describe('Server-Sent Events framing', () => {
  it('writes id, event and one line of JSON data, ended by a blank line', () => {
    expect(formatSseMessage({ id: 'e1', type: 'post.published', data: { a: 'x\ny' } })).toBe('id: e1\nevent: post.published\ndata: {"a":"x\\ny"}\n\n');
  });

  it('writes comments on one line', () => {
    expect(formatSseComment('heartbeat')).toBe(': heartbeat\n\n');
    expect(formatSseComment('a\r\nb')).toBe(': a b\n\n');
  });
});

describe('the event hub', () => {
  const event = (id: string, type = 'post.published') => ({ id, type, time: '2026-03-08T10:00:00.000Z', data: { id } });

  it("fans an organisation's events out to its streams only, once per id", () => {
    const hub = createEventHub({ replaySize: 10, replayMs: 60_000, maxOrganisations: 10 });
    const seenA: string[] = [];
    const seenB: string[] = [];
    const stopA = hub.subscribe('org-a', (e) => seenA.push(e.id));
    hub.subscribe('org-b', (e) => seenB.push(e.id));
    expect(hub.publish('org-a', event('1'))).toBe(true);
    expect(hub.publish('org-a', event('1'))).toBe(false);
    hub.publish('org-b', event('2'));
    expect(seenA).toEqual(['1']);
    expect(seenB).toEqual(['2']);
    expect(hub.connections()).toBe(2);
    stopA();
    hub.publish('org-a', event('3'));
    expect(seenA).toEqual(['1']);
    expect(hub.connections()).toBe(1);
  });

  it('replays what came after an id it still holds, within its size and age bounds', () => {
    let now = 0;
    const hub = createEventHub({ replaySize: 3, replayMs: 1_000, maxOrganisations: 10, now: () => now });
    ['1', '2', '3', '4'].forEach((id) => hub.publish('org', event(id)));
    expect(hub.replaySince('org', '1')).toEqual({ found: false });
    expect(hub.replaySince('org', '2')).toEqual({ found: true, events: [event('3'), event('4')] });
    expect(hub.replaySince('org', '4')).toEqual({ found: true, events: [] });
    expect(hub.replaySince('other', '2')).toEqual({ found: false });
    now = 1_000;
    hub.publish('org', event('5'));
    expect(hub.replaySince('org', '4')).toEqual({ found: true, events: [event('5')] });
    now = 1_001;
    expect(hub.replaySince('org', '4')).toEqual({ found: false });
    expect(hub.replaySince('org', '5')).toEqual({ found: true, events: [] });
    // An id that aged out may be delivered again.
    expect(hub.publish('org', event('2'))).toBe(true);
  });

  it('forgets the quietest organisations without open streams beyond its bound', () => {
    const hub = createEventHub({ replaySize: 5, replayMs: 60_000, maxOrganisations: 2 });
    hub.subscribe('watched', () => undefined);
    hub.publish('watched', event('w'));
    hub.publish('quiet', event('q'));
    hub.publish('busy', event('b'));
    expect(hub.replaySince('quiet', 'q')).toEqual({ found: false });
    expect(hub.replaySince('watched', 'w')).toEqual({ found: true, events: [] });
    expect(hub.replaySince('busy', 'b')).toEqual({ found: true, events: [] });
  });
});

describe("a stream's end", () => {
  it('comes at its longest life, or sooner when its bearer token expires', () => {
    expect(streamDeadline(1_000, 3_600_000, undefined)).toBe(3_601_000);
    expect(streamDeadline(1_000, 3_600_000, 61_000)).toBe(61_000);
    expect(streamDeadline(1_000, 60_000, 7_200_000)).toBe(61_000);
  });

  it("reads a JWT's exp in milliseconds, and nothing from what has none", () => {
    const jwt = (payload: unknown) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;
    expect(bearerExpiry(jwt({ sub: 'u', exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    expect(bearerExpiry(jwt({ sub: 'u' }))).toBeUndefined();
    expect(bearerExpiry(jwt({ exp: '1800000000' }))).toBeUndefined();
    expect(bearerExpiry(jwt({ exp: null }))).toBeUndefined();
    expect(bearerExpiry(`e30.${Buffer.from('{"exp":1e999}').toString('base64url')}.c2ln`)).toBeUndefined();
    expect(bearerExpiry('e30.bm90IGpzb24.c2ln')).toBeUndefined();
    expect(bearerExpiry('opaque-token')).toBeUndefined();
    expect(bearerExpiry('')).toBeUndefined();
  });
});
