import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  checkIdempotencyKey,
  postIdFor,
  prefersRespondAsync,
  rejectionDetail,
  requestHashOf,
  writeOutcome,
} from '../src/domain/post-requests.ts';

const organisation = '2f8e1c4a-7b3d-4e9f-8a1b-5c6d7e8f9a0b';
const other = '9a0b2f8e-1c4a-4b3d-8e9f-5c6d7e8f1a2b';

describe('checkIdempotencyKey', () => {
  it('no header: no key', () => {
    expect(checkIdempotencyKey(undefined)).toEqual({ ok: true, key: undefined });
  });

  it('takes 1 to 255 visible ASCII characters, the boundaries included', () => {
    expect(checkIdempotencyKey('a')).toEqual({ ok: true, key: 'a' });
    expect(checkIdempotencyKey('!~')).toEqual({ ok: true, key: '!~' });
    expect(checkIdempotencyKey('k'.repeat(255))).toEqual({ ok: true, key: 'k'.repeat(255) });
    expect(checkIdempotencyKey('order-42:retry/1')).toEqual({ ok: true, key: 'order-42:retry/1' });
  });

  it('refuses an empty, over-long, spaced, control or non-ASCII key with the rule', () => {
    const refusal = { ok: false, message: 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)' };
    for (const key of ['', 'k'.repeat(256), 'two words', 'tab\there', 'del\x7f', 'caf\u00e9', ' leading']) {
      expect(checkIdempotencyKey(key), JSON.stringify(key)).toEqual(refusal);
    }
  });

  it('refuses the header sent twice', () => {
    expect(checkIdempotencyKey(['a', 'b'])).toEqual({ ok: false, message: 'send Idempotency-Key once' });
  });
});

describe('postIdFor', () => {
  it('is the SHA-256 of the organisation and key, shaped as a version 8 UUID', () => {
    const id = postIdFor(organisation, 'order-42');
    const hex = createHash('sha256').update(`postwire:post:${organisation}:order-42`).digest('hex');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Everything but the version nibble and the variant bits is the hash itself.
    expect(id.replaceAll('-', '').slice(0, 12)).toBe(hex.slice(0, 12));
    expect(id.replaceAll('-', '').slice(13, 16)).toBe(hex.slice(13, 16));
    expect(id.replaceAll('-', '').slice(17)).toBe(hex.slice(17, 32));
    expect(parseInt(id.slice(19, 20), 16) & 0x3).toBe(parseInt(hex.slice(16, 17), 16) & 0x3);
  });

  it('the same organisation and key give the same id; another key or organisation another one', () => {
    expect(postIdFor(organisation, 'order-42')).toBe(postIdFor(organisation, 'order-42'));
    expect(postIdFor(organisation, 'order-43')).not.toBe(postIdFor(organisation, 'order-42'));
    expect(postIdFor(other, 'order-42')).not.toBe(postIdFor(organisation, 'order-42'));
  });

  it('sets the version and variant bits whatever the hash holds, and keeps every other bit of it', () => {
    for (let index = 0; index < 64; index += 1) {
      const id = postIdFor(organisation, `key-${index}`);
      const hash = createHash('sha256').update(`postwire:post:${organisation}:key-${index}`).digest().subarray(0, 16);
      const bytes = Buffer.from(id.replaceAll('-', ''), 'hex');
      expect(id[14]).toBe('8');
      expect('89ab').toContain(id[19]);
      bytes.forEach((byte, position) => {
        const kept = position === 6 ? 0x0f : position === 8 ? 0x3f : 0xff;
        expect(byte & kept, `byte ${position}`).toBe((hash[position] ?? -1) & kept);
      });
    }
  });
});

describe('canonicalJson and requestHashOf', () => {
  it('sorts keys at every depth and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined }, e: null })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1,"e":null}');
  });

  it('keeps array order and writes undefined array items as null, as JSON does', () => {
    expect(canonicalJson([3, 1, undefined, 'two'])).toBe('[3,1,null,"two"]');
  });

  it('writes scalars as JSON', () => {
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
  });

  it('bodies that mean the same hash the same; any change of meaning changes the hash', () => {
    const hash = requestHashOf({ caption: 'hi', media: [{ url: 'https://a', position: 0 }] });
    expect(hash).toBe(createHash('sha256').update('{"caption":"hi","media":[{"position":0,"url":"https://a"}]}').digest('hex'));
    expect(requestHashOf({ media: [{ position: 0, url: 'https://a' }], caption: 'hi' })).toBe(hash);
    expect(requestHashOf({ caption: 'hi!', media: [{ url: 'https://a', position: 0 }] })).not.toBe(hash);
    expect(requestHashOf({ caption: 'hi', media: [{ url: 'https://a', position: 1 }] })).not.toBe(hash);
  });
});

describe('prefersRespondAsync', () => {
  it('finds respond-async in any case, with parameters, among other preferences, in any header line', () => {
    expect(prefersRespondAsync('respond-async')).toBe(true);
    expect(prefersRespondAsync('Respond-Async')).toBe(true);
    expect(prefersRespondAsync('return=minimal, respond-async')).toBe(true);
    expect(prefersRespondAsync(' respond-async ; wait=10')).toBe(true);
    expect(prefersRespondAsync('respond-async;wait=10')).toBe(true);
    expect(prefersRespondAsync('wait=10,respond-async')).toBe(true);
    expect(prefersRespondAsync(['return=minimal', 'respond-async'])).toBe(true);
  });

  it('anything else waits', () => {
    expect(prefersRespondAsync(undefined)).toBe(false);
    expect(prefersRespondAsync('')).toBe(false);
    expect(prefersRespondAsync('wait=5')).toBe(false);
    expect(prefersRespondAsync('return=respond-async')).toBe(false);
    expect(prefersRespondAsync('respond-asynchronously')).toBe(false);
    expect(prefersRespondAsync('no-respond-async')).toBe(false);
    expect(prefersRespondAsync('respond-async-later; x')).toBe(false);
    expect(prefersRespondAsync([])).toBe(false);
  });
});

describe('writeOutcome', () => {
  const postId = '4b1d0a3e-2c5f-4a6b-9d7e-8f9a0b1c2d3e';
  const violations = [{ field: 'media[0].altText', code: 'alt-text-on-video', message: 'alt text is for images only' }];

  it('accepted in time: 201 for a create, 200 for any other command', () => {
    expect(writeOutcome([{ type: 'post.accepted', postId }], { postId, creates: true })).toEqual({ kind: 'accepted', status: 201 });
    expect(writeOutcome([{ type: 'post.accepted', postId }], { postId, creates: false })).toEqual({ kind: 'accepted', status: 200 });
  });

  it('rejected: 422 with every violation', () => {
    expect(writeOutcome([{ type: 'post.rejected', postId, violations }], { postId, creates: true })).toEqual({ kind: 'rejected', status: 422, violations });
  });

  it('refused because the post moved past the version If-Match named: 412, whatever else was wrong', () => {
    const stale = { field: 'If-Match', code: 'precondition-failed', message: 'the post changed' };
    expect(writeOutcome([{ type: 'post.rejected', postId, violations: [stale] }], { postId, creates: false })).toEqual({ kind: 'precondition-failed', status: 412 });
    expect(writeOutcome([{ type: 'post.rejected', postId, violations: [...violations, stale] }], { postId, creates: false })).toEqual({
      kind: 'precondition-failed',
      status: 412,
    });
    expect(writeOutcome([{ type: 'post.rejected', postId: 'another', violations: [stale] }], { postId, creates: false })).toEqual({ kind: 'pending', status: 202 });
  });

  it('no answer about this post in time: 202', () => {
    expect(writeOutcome([], { postId, creates: true })).toEqual({ kind: 'pending', status: 202 });
    expect(writeOutcome([{ type: 'post.accepted', postId: 'another' }], { postId, creates: true })).toEqual({ kind: 'pending', status: 202 });
  });

  it('the answer about this post counts, whatever came before it', () => {
    expect(
      writeOutcome(
        [
          { type: 'post.rejected', postId: 'another', violations },
          { type: 'post.accepted', postId },
        ],
        { postId, creates: false },
      ),
    ).toEqual({ kind: 'accepted', status: 200 });
  });
});

describe('rejectionDetail', () => {
  it('joins every violation, naming its field when it has one', () => {
    expect(
      rejectionDetail([
        { field: 'caption', code: 'too-many-hashtags', message: '31 hashtags; at most 30' },
        { field: '', code: 'account-not-active', message: 'the account must be reconnected' },
      ]),
    ).toBe('caption: 31 hashtags; at most 30; the account must be reconnected');
  });

  it('says the publisher refused when it named nothing', () => {
    expect(rejectionDetail([])).toBe('The publisher refused the request.');
  });
});
