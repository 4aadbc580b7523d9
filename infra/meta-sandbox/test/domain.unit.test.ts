import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClock, metaTimestamp } from '../src/domain/clock.ts';
import { GraphError } from '../src/domain/errors.ts';
import { parseFields } from '../src/domain/fields.ts';
import {
  INSTAGRAM_METRICS,
  instagramMetricValue,
  resolveFacebookMetrics,
  resolveInstagramMetrics,
  viewsAt,
} from '../src/domain/insights.ts';
import { generateJpeg, generateMovie, generatePng, probeMedia } from '../src/domain/media-bytes.ts';
import { checkCaption, checkFeedAspectRatio, containerStatus, parseContainerRequest } from '../src/domain/publishing.ts';
import { LIFETIMES, evaluateToken, tokenKindOf, type TokenRecord } from '../src/domain/tokens.ts';
import { createUsageCounter } from '../src/domain/usage.ts';
import { signatures } from '../src/domain/webhooks.ts';

function graphError(run: () => unknown): GraphError {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error('expected a GraphError');
}

const business = { accountType: 'BUSINESS' as const, login: 'facebook' as const };

describe('clock', () => {
  it('moves forward only and formats Meta timestamps', () => {
    let real = 1_000_000;
    const clock = createClock(() => real);
    clock.advance(5_000);
    real += 1;
    expect(clock.now()).toBe(1_005_001);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(0)).toThrow(RangeError);
    expect(metaTimestamp(Date.UTC(2026, 0, 31, 12))).toBe('2026-01-31T12:00:00+0000');
  });
});

describe('tokens', () => {
  const token = (overrides: Partial<TokenRecord> = {}): TokenRecord => ({
    value: 'EAAUx',
    kind: 'facebook-user',
    appId: '1',
    subjectId: '2',
    scopes: [],
    declinedScopes: [],
    targetIds: [],
    issuedAt: 0,
    expiresAt: LIFETIMES.longLivedMs,
    dataAccessExpiresAt: LIFETIMES.dataAccessMs,
    longLived: true,
    ...overrides,
  });

  it('recognises the token kind from its prefix', () => {
    expect(tokenKindOf('EAAUabc')).toBe('facebook-user');
    expect(tokenKindOf('EAAPabc')).toBe('facebook-page');
    expect(tokenKindOf('IGAAabc')).toBe('instagram-user');
    expect(tokenKindOf('nonsense')).toBeUndefined();
  });

  it('uses Meta lifetimes: 5183944 s long-lived, 90 days of data access', () => {
    expect(LIFETIMES.longLivedMs / 1000).toBe(5_183_944);
    expect(LIFETIMES.dataAccessMs).toBe(90 * 86_400_000);
    expect(LIFETIMES.refreshMinAgeMs).toBe(86_400_000);
  });

  it('answers 463 after expiry, and the invalidation subcodes 458/459/460/464/467', () => {
    expect(evaluateToken(token(), LIFETIMES.longLivedMs - 1)).toEqual({ valid: true });
    expect(evaluateToken(token(), LIFETIMES.longLivedMs)).toMatchObject({ valid: false, subcode: 463 });
    expect(evaluateToken(token({ expiresAt: 0 }), LIFETIMES.longLivedMs * 10)).toMatchObject({ valid: false, subcode: 463 });
    expect(evaluateToken(token({ expiresAt: 0 }), LIFETIMES.dataAccessMs - 1)).toEqual({ valid: true });
    const subcodes = (['app_removed', 'checkpointed', 'password_changed', 'unconfirmed', 'logged_out'] as const).map((reason) => {
      const verdict = evaluateToken(token({ invalidated: { reason, at: 0 } }), 1);
      return verdict.valid ? undefined : verdict.subcode;
    });
    expect(subcodes).toEqual([458, 459, 460, 464, 467]);
  });
});

describe('container requests', () => {
  it('accepts an image with caption, collaborators, user tags and alt text', () => {
    const request = parseContainerRequest(
      { image_url: 'http://x/a.jpg', caption: 'hello', collaborators: '["a","b"]', user_tags: '[{"username":"c","x":0.5,"y":0.5}]', alt_text: 'alt' },
      business,
    );
    expect(request).toMatchObject({ kind: 'image', collaborators: ['a', 'b'], userTags: [{ username: 'c' }], altText: 'alt' });
  });

  it('rejects single-video feed posts (media_type=VIDEO) as Meta does since 2023', () => {
    expect(graphError(() => parseContainerRequest({ media_type: 'VIDEO', video_url: 'http://x/v.mp4' }, business)).code).toBe(100);
  });

  it('allows stories for business accounts only, and never with a caption', () => {
    expect(parseContainerRequest({ media_type: 'STORIES', image_url: 'http://x/a.jpg' }, business).kind).toBe('story');
    expect(graphError(() => parseContainerRequest({ media_type: 'STORIES', image_url: 'http://x/a.jpg' }, { ...business, accountType: 'MEDIA_CREATOR' })).message).toMatch(/business/);
    expect(graphError(() => parseContainerRequest({ media_type: 'STORIES', image_url: 'http://x/a.jpg', caption: 'x' }, business)).code).toBe(100);
  });

  it('enforces 2-10 carousel children (100/2207028) and keeps captions and collaborators off children', () => {
    expect(graphError(() => parseContainerRequest({ media_type: 'CAROUSEL', children: '1' }, business)).subcode).toBe(2207028);
    expect(graphError(() => parseContainerRequest({ media_type: 'CAROUSEL', children: Array.from({ length: 11 }, (_, i) => i).join(',') }, business)).subcode).toBe(2207028);
    expect(parseContainerRequest({ media_type: 'CAROUSEL', children: '1,2', caption: 'c' }, business)).toMatchObject({ kind: 'carousel', children: ['1', '2'] });
    expect(graphError(() => parseContainerRequest({ is_carousel_item: 'true', image_url: 'http://x', caption: 'no' }, business)).message).toMatch(/caption/);
    expect(graphError(() => parseContainerRequest({ is_carousel_item: 'true', image_url: 'http://x', collaborators: 'a' }, business)).message).toMatch(/collaborators/i);
  });

  it('limits collaborators to 3 and refuses resumable uploads with Instagram Login', () => {
    expect(graphError(() => parseContainerRequest({ image_url: 'http://x', collaborators: 'a,b,c,d' }, business)).code).toBe(100);
    expect(graphError(() => parseContainerRequest({ media_type: 'REELS', upload_type: 'resumable' }, { ...business, login: 'instagram' })).code).toBe(100);
  });

  it('checks captions: 2200 characters (36004/2207010), 30 hashtags, 20 mentions (2207040)', () => {
    expect(() => checkCaption('a'.repeat(2200))).not.toThrow();
    expect(graphError(() => checkCaption('a'.repeat(2201))).subcode).toBe(2207010);
    expect(() => checkCaption(Array.from({ length: 30 }, (_, i) => `#t${i}`).join(' '))).not.toThrow();
    expect(graphError(() => checkCaption(Array.from({ length: 31 }, (_, i) => `#t${i}`).join(' '))).message).toMatch(/31 hashtags/);
    expect(graphError(() => checkCaption(Array.from({ length: 21 }, (_, i) => `@u${i}`).join(' '))).subcode).toBe(2207040);
    expect(() => checkCaption('mail me at a@b.com @one')).not.toThrow();
  });

  it('moves a container IN_PROGRESS -> FINISHED -> EXPIRED after 24 h, PUBLISHED once published', () => {
    const timeline = { createdAt: 0, readyAt: 1_000 };
    expect(containerStatus(timeline, 999).statusCode).toBe('IN_PROGRESS');
    expect(containerStatus(timeline, 1_000).statusCode).toBe('FINISHED');
    expect(containerStatus(timeline, 86_400_000).statusCode).toBe('EXPIRED');
    expect(containerStatus({ ...timeline, publishedAt: 5 }, 86_400_000).statusCode).toBe('PUBLISHED');
    expect(containerStatus({ ...timeline, errorSubcode: 2207026 }, 5)).toMatchObject({ statusCode: 'ERROR', status: expect.stringContaining('2207026') });
    expect(containerStatus({ createdAt: 0, readyAt: undefined }, 5).statusCode).toBe('IN_PROGRESS');
  });

  it('accepts feed images between 4:5 and 1.91:1', () => {
    expect(checkFeedAspectRatio(1080, 1350)).toBeUndefined();
    expect(checkFeedAspectRatio(1910, 1000)).toBeUndefined();
    expect(checkFeedAspectRatio(1080, 1920)).toBeCloseTo(0.5625);
    expect(checkFeedAspectRatio(2000, 1000)).toBe(2);
  });
});

describe('insights', () => {
  it('applies the reference table per media product type', () => {
    expect(resolveInstagramMetrics(['views', 'likes', 'saved'], 'REELS')).toEqual(['views', 'likes', 'saved']);
    expect(resolveInstagramMetrics(['navigation', 'replies', 'follows'], 'STORY')).toHaveLength(3);
    expect(INSTAGRAM_METRICS.ig_reels_avg_watch_time).toEqual(['REELS']);
  });

  it('fails the whole request with 100 for removed or inapplicable metrics', () => {
    for (const removed of ['impressions', 'plays', 'video_views', 'engagement', 'carousel_album_reach']) {
      expect(graphError(() => resolveInstagramMetrics(['reach', removed], 'FEED')).code).toBe(100);
    }
    expect(graphError(() => resolveInstagramMetrics(['reach', 'navigation'], 'FEED')).code).toBe(100);
    expect(graphError(() => resolveInstagramMetrics(['likes'], 'STORY')).code).toBe(100);
    expect(graphError(() => resolveFacebookMetrics(['post_impressions'])).message).toMatch(/post_media_view/);
  });

  it('grows deterministically and never decreases', () => {
    let previous = -1;
    for (let hours = 0; hours <= 96; hours += 3) {
      const value = instagramMetricValue('likes', '17900000000000001', hours * 3_600_000);
      expect(value).toBeGreaterThanOrEqual(previous);
      previous = value;
    }
    expect(viewsAt('a', 0)).toBe(0);
    expect(viewsAt('a', 86_400_000)).toBe(viewsAt('a', 86_400_000));
    expect(viewsAt('a', 48 * 3_600_000)).toBeGreaterThan(viewsAt('a', 3_600_000));
  });
});

describe('usage counter', () => {
  it('counts calls in a rolling window', () => {
    const counter = createUsageCounter(3_600_000);
    counter.record(0);
    counter.record(60_000);
    expect(counter.count(60_000)).toBe(2);
    expect(counter.count(3_600_000 + 1)).toBe(1);
    expect(counter.count(3_600_000 + 60_001)).toBe(0);
  });
});

describe('media bytes', () => {
  it('generates JPEGs whose SOF header carries the requested size', () => {
    expect(probeMedia(generateJpeg(1080, 1350))).toEqual({ format: 'jpeg', width: 1080, height: 1350 });
    const padded = generateJpeg(320, 240, 9_000_000);
    expect(padded.length).toBeGreaterThanOrEqual(8_999_990);
    expect(probeMedia(padded)).toMatchObject({ width: 320, height: 240 });
  });

  it('generates MP4 and MOV headers with readable duration and size', () => {
    expect(probeMedia(generateMovie({ durationSeconds: 12.5, width: 1080, height: 1920 }))).toEqual({
      format: 'mp4',
      durationSeconds: 12.5,
      width: 1080,
      height: 1920,
    });
    expect(probeMedia(generateMovie({ durationSeconds: 4, width: 10, height: 10, brand: 'mov' })).format).toBe('mov');
    expect(probeMedia(generatePng()).format).toBe('png');
    expect(probeMedia(new TextEncoder().encode('<html>')).format).toBe('unknown');
  });
});

describe('fields and signatures', () => {
  it('parses field expansion with modifiers and subfields', () => {
    expect(parseFields('id,reactions.summary(total_count).limit(0),children{id,media_type}')).toEqual([
      { name: 'id', modifiers: {}, subfields: undefined },
      { name: 'reactions', modifiers: { summary: 'total_count', limit: '0' }, subfields: undefined },
      { name: 'children', modifiers: {}, subfields: [{ name: 'id', modifiers: {}, subfields: undefined }, { name: 'media_type', modifiers: {}, subfields: undefined }] },
    ]);
    expect(() => parseFields('a{b')).toThrow(GraphError);
  });

  it('signs webhook bodies as sha256=<hex HMAC-SHA256(raw body, app secret)>', () => {
    const expected = createHmac('sha256', 'secret').update('{"a":1}').digest('hex');
    expect(signatures('{"a":1}', 'secret').sha256).toBe(`sha256=${expected}`);
  });
});
