import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEventReader, postEvents, postEventsV0, toHeaders } from '../src/index.ts';

function v0Message(body: Record<string, unknown>, key: string) {
  const headers = toHeaders('post.published', {
    id: randomUUID(),
    source: '/legacy/publisher',
    time: new Date().toISOString(),
    organisationId: randomUUID(),
    correlationId: randomUUID(),
  });
  return { key, value: JSON.stringify(body), headers };
}

describe('upcasting post-events v0 at the consumer edge', () => {
  const reader = createEventReader(postEvents, { legacy: [postEventsV0] });
  const accountId = randomUUID();
  const v0 = {
    post_id: randomUUID(),
    account_id: accountId,
    platform: 'instagram',
    post_type: 'reel',
    media_id: '17912345678901234',
    permalink: 'https://www.instagram.com/reel/Abc123/',
    published_at: 1_748_770_200,
  };

  it('subscribes to the current and the legacy topic', () => {
    expect(reader.topicNames).toEqual(['postwire.post-events.v1', 'postwire.post-events.v0']);
  });

  it('hands the handler a v1 post.published built from the v0 shape', () => {
    const decoded = reader.decode('postwire.post-events.v0', v0Message(v0, accountId));
    expect(decoded).toMatchObject({ ok: true, upcastFrom: 'postwire.post-events.v0' });
    if (!decoded.ok) return;
    expect(decoded.event).toMatchObject({
      type: 'post.published',
      data: {
        postId: v0.post_id,
        socialAccountId: accountId,
        platformPostId: v0.media_id,
        platformUrl: v0.permalink,
        contentId: null,
        mediaCount: 1,
        publishedAt: '2025-06-01T09:30:00.000Z',
      },
    });
  });

  it('dead-letters a v0 message that does not fit the old shape either', () => {
    const decoded = reader.decode('postwire.post-events.v0', v0Message({ ...v0, published_at: 'yesterday' }, accountId));
    expect(decoded).toMatchObject({ ok: false, reason: 'schema-mismatch' });
  });

  it('dead-letters a v0 type nobody wrote an upcaster for', () => {
    const message = v0Message(v0, accountId);
    const decoded = reader.decode('postwire.post-events.v0', {
      ...message,
      headers: { ...message.headers, ce_type: 'post.boosted' },
    });
    expect(decoded).toMatchObject({ ok: false, reason: 'unknown-type' });
  });
});
