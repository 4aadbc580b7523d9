import { describe, expect, it } from 'vitest';
import type { MediaItem, PostContent } from '@postwire/contracts';
import { type AccountView, LIMITS, type ValidationInput, facebookFormat, validatePost } from '../src/domain/validation.ts';

const now = new Date('2026-03-01T09:00:00.000Z');
const image = (position = 0, extra: Partial<MediaItem> = {}): MediaItem => ({ position, mediaType: 'image', url: `https://cdn.example/${position}.jpg`, ...extra });
const video = (position = 0, extra: Partial<MediaItem> = {}): MediaItem => ({ position, mediaType: 'video', url: `https://cdn.example/${position}.mp4`, ...extra });
const active: AccountView = { platform: 'instagram', status: 'active', capabilities: { feed: true, stories: true, reels: true } };
const page: AccountView = { ...active, platform: 'facebook' };

function input(content: Partial<PostContent>, overrides: Partial<ValidationInput> = {}): ValidationInput {
  const platform = content.platform ?? 'instagram';
  return {
    content: { platform, postType: 'feed', media: [image()], ...content },
    account: platform === 'facebook' ? page : active,
    intent: 'queue',
    scheduledFor: new Date(now.getTime() + 60_000),
    now,
    scheduleSkewMs: 30_000,
    ...overrides,
  };
}

const codes = (value: ValidationInput) => validatePost(value).map((violation) => `${violation.field}:${violation.code}`);

describe('post validation', () => {
  it('accepts a plain Instagram feed image, and returns exactly what is wrong otherwise', () => {
    expect(validatePost(input({}))).toEqual([]);
    expect(validatePost(input({ postType: 'story', media: [video()] }, { account: null }))).toEqual([
      { field: 'socialAccountId', code: 'account-unknown', message: 'the account is not connected to your organisation' },
    ]);
  });

  describe('the account', () => {
    it('must be on the post’s platform', () => {
      expect(validatePost(input({ platform: 'facebook' }, { account: active }))).toEqual([
        { field: 'platform', code: 'account-platform-mismatch', message: 'the account is a instagram account, not facebook' },
      ]);
    });

    it('must be active to queue or publish now, not to draft', () => {
      const expired = { ...active, status: 'expired' as const };
      const violation = { field: 'socialAccountId', code: 'account-not-active', message: 'the account is expired; reconnect it before publishing' };
      expect(validatePost(input({}, { account: expired }))).toEqual([violation]);
      expect(validatePost(input({}, { account: expired, intent: 'publish-now' }))).toEqual([violation]);
      expect(validatePost(input({}, { account: expired, intent: 'draft' }))).toEqual([]);
    });

    it.each([
      ['feed', 'feed', [image()]],
      ['carousel', 'feed', [image(0), image(1)]],
      ['story', 'stories', [image()]],
      ['reel', 'reels', [video()]],
    ] as const)('needs the capability a %s post uses (%s)', (postType, capability, media) => {
      const without = { ...active, capabilities: { ...active.capabilities, [capability]: false } };
      expect(validatePost(input({ postType, media: [...media] }, { account: without }))).toEqual([
        { field: 'postType', code: 'capability-missing', message: `the account cannot publish ${postType} posts` },
      ]);
      expect(validatePost(input({ postType, media: [...media] }))).toEqual([]);
    });
  });

  describe('media', () => {
    it('is required except on a Facebook feed post (text or link)', () => {
      expect(validatePost(input({ media: [] }))).toEqual([{ field: 'media', code: 'media-required', message: 'a feed post needs media' }]);
      expect(codes(input({ platform: 'facebook', postType: 'story', media: [] }))).toEqual(['media:media-required']);
      expect(codes(input({ platform: 'facebook', media: [] }))).toEqual([]);
      expect(codes(input({ platform: 'facebook', media: [], link: 'https://postwire.example/news' }))).toEqual([]);
    });

    it('a carousel has 2 to 10 items', () => {
      const items = (count: number) => Array.from({ length: count }, (_, index) => image(index));
      expect(validatePost(input({ postType: 'carousel', media: items(1) }))).toEqual([
        { field: 'media', code: 'carousel-size', message: 'a carousel has 2 to 10 items, not 1' },
      ]);
      expect(codes(input({ postType: 'carousel', media: items(2) }))).toEqual([]);
      expect(codes(input({ postType: 'carousel', media: items(10) }))).toEqual([]);
      expect(codes(input({ postType: 'carousel', media: items(11) }))).toEqual(['media:carousel-size']);
      expect(codes(input({ postType: 'carousel', media: [] }))).toEqual(['media:media-required']);
    });

    it('other posts have one item', () => {
      expect(validatePost(input({ media: [image(0), image(1)] }))).toEqual([
        { field: 'media', code: 'too-many-media', message: 'a feed post has one media item; use a carousel for more' },
      ]);
      expect(codes(input({ platform: 'facebook', media: [image(0), image(1)] }))).toEqual(['media:too-many-media']);
    });

    it('fits the post type', () => {
      expect(validatePost(input({ postType: 'reel', media: [image()] }))).toEqual([
        { field: 'media[0].mediaType', code: 'media-type-mismatch', message: 'a reel is a video' },
      ]);
      expect(validatePost(input({ media: [video()] }))).toEqual([
        { field: 'media[0].mediaType', code: 'feed-video-must-be-reel', message: 'Instagram publishes a single video as a reel: use post type reel' },
      ]);
      expect(codes(input({ platform: 'facebook', media: [video()] }))).toEqual([]);
      expect(codes(input({ platform: 'facebook', postType: 'reel', media: [image()] }))).toEqual(['media[0].mediaType:media-type-mismatch']);
      expect(codes(input({ postType: 'story', media: [image()] }))).toEqual([]);
      expect(codes(input({ postType: 'story', media: [video()] }))).toEqual([]);
      expect(codes(input({ postType: 'carousel', media: [image(0), video(1)] }))).toEqual([]);
      expect(validatePost(input({ platform: 'facebook', postType: 'carousel', media: [image(0), video(1)] }))).toEqual([
        { field: 'media[1].mediaType', code: 'media-type-mismatch', message: 'a Facebook multi-photo post takes images only' },
      ]);
    });

    it('a link belongs to a Facebook feed post without media', () => {
      const link = 'https://postwire.example/news';
      const refused = { field: 'link', code: 'link-not-supported', message: 'a link is only for a Facebook feed post without media' };
      expect(validatePost(input({ link }))).toEqual([refused]);
      expect(validatePost(input({ platform: 'facebook', link }))).toEqual([refused]);
      expect(validatePost(input({ platform: 'facebook', postType: 'story', media: [image()], link }))).toEqual([refused]);
    });
  });

  describe('text, counted on the caption with its hashtags appended', () => {
    it('is at most 2,200 characters', () => {
      expect(codes(input({ caption: 'a'.repeat(LIMITS.captionLength) }))).toEqual([]);
      expect(validatePost(input({ caption: 'a'.repeat(2201) }))).toEqual([
        { field: 'caption', code: 'caption-too-long', message: 'the caption with its hashtags is 2201 characters; at most 2200' },
      ]);
      // 2,195 + "\n\n#abc" = 2,201: the hashtags push it over.
      expect(codes(input({ caption: 'a'.repeat(2195), hashtags: ['abc'] }))).toEqual(['caption:caption-too-long']);
      expect(codes(input({ caption: 'a'.repeat(2194), hashtags: ['abc'] }))).toEqual([]);
    });

    it('has at most 30 hashtags, in the caption and the list together', () => {
      const tags = (count: number, prefix = 't') => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
      expect(codes(input({ hashtags: tags(30) }))).toEqual([]);
      expect(validatePost(input({ hashtags: tags(31) }))).toEqual([{ field: 'hashtags', code: 'too-many-hashtags', message: '31 hashtags; at most 30' }]);
      expect(codes(input({ caption: '#one #two', hashtags: tags(29) }))).toEqual(['hashtags:too-many-hashtags']);
      expect(codes(input({ caption: '#one', hashtags: tags(29) }))).toEqual([]);
    });

    it('has at most 20 mentions', () => {
      const mentions = (count: number) => Array.from({ length: count }, (_, index) => `@user${index}`).join(' ');
      expect(codes(input({ caption: mentions(20) }))).toEqual([]);
      expect(validatePost(input({ caption: mentions(21) }))).toEqual([{ field: 'caption', code: 'too-many-mentions', message: '21 mentions; at most 20' }]);
    });

    it('without caption or hashtags is fine', () => {
      expect(codes(input({ caption: undefined, hashtags: undefined }))).toEqual([]);
    });
  });

  describe('extras', () => {
    it('collaborators: at most 3, never on a story nor on Facebook', () => {
      expect(codes(input({ collaborators: ['a', 'b', 'c'] }))).toEqual([]);
      expect(validatePost(input({ collaborators: ['a', 'b', 'c', 'd'] }))).toEqual([
        { field: 'collaborators', code: 'too-many-collaborators', message: 'at most 3 collaborators' },
      ]);
      const notSupported = { field: 'collaborators', code: 'collaborators-not-supported', message: 'collaborators are for Instagram feed posts, carousels and reels' };
      expect(validatePost(input({ postType: 'story', collaborators: ['a'] }))).toEqual([notSupported]);
      expect(validatePost(input({ platform: 'facebook', collaborators: ['a'] }))).toEqual([notSupported]);
      expect(codes(input({ postType: 'story', collaborators: [] }))).toEqual([]);
      expect(codes(input({ postType: 'reel', media: [video()], collaborators: ['a'] }))).toEqual([]);
    });

    it('alt text only on images', () => {
      expect(codes(input({ media: [image(0, { altText: 'a loaf' })] }))).toEqual([]);
      expect(validatePost(input({ postType: 'reel', media: [video(0, { altText: 'a loaf' })] }))).toEqual([
        { field: 'media[0].altText', code: 'alt-text-on-video', message: 'alt text is for images' },
      ]);
      expect(codes(input({ postType: 'carousel', media: [image(0), video(1, { altText: 'x' })] }))).toEqual(['media[1].altText:alt-text-on-video']);
    });

    it('user tags on an Instagram image need x and y; a story or a video does not; Facebook takes none', () => {
      expect(codes(input({ media: [image(0, { userTags: [{ username: 'bob', x: 0.5, y: 0.5 }] })] }))).toEqual([]);
      expect(validatePost(input({ media: [image(0, { userTags: [{ username: 'a', x: 0, y: 0 }, { username: 'bob', x: 0.5 }, { username: 'c', y: 0.1 }] })] }))).toEqual([
        { field: 'media[0].userTags[1]', code: 'user-tag-position-required', message: 'a tag on an image needs x and y' },
        { field: 'media[0].userTags[2]', code: 'user-tag-position-required', message: 'a tag on an image needs x and y' },
      ]);
      expect(codes(input({ postType: 'story', media: [image(0, { userTags: [{ username: 'bob' }] })] }))).toEqual([]);
      expect(codes(input({ postType: 'reel', media: [video(0, { userTags: [{ username: 'bob' }] })] }))).toEqual([]);
      expect(validatePost(input({ platform: 'facebook', media: [image(0, { userTags: [{ username: 'bob', x: 0.1, y: 0.1 }] })] }))).toEqual([
        { field: 'media[0].userTags', code: 'user-tags-not-supported', message: 'user tags are for Instagram posts' },
      ]);
      expect(codes(input({ platform: 'facebook', media: [image(0, { userTags: [{ username: 'bob' }] })] }))).toEqual(['media[0].userTags:user-tags-not-supported']);
      expect(codes(input({ platform: 'facebook', media: [image(0, { userTags: [] })] }))).toEqual([]);
    });

    it('a cover or thumbnail offset only on a video', () => {
      expect(codes(input({ postType: 'reel', media: [video(0, { coverUrl: 'https://cdn.example/c.jpg', thumbOffsetMs: 0 })] }))).toEqual([]);
      expect(validatePost(input({ media: [image(0, { coverUrl: 'https://cdn.example/c.jpg', thumbOffsetMs: 0 })] }))).toEqual([
        { field: 'media[0].coverUrl', code: 'cover-on-image', message: 'a cover is for videos' },
        { field: 'media[0].thumbOffsetMs', code: 'cover-on-image', message: 'a thumbnail offset is for videos' },
      ]);
    });

    it('no location nor first comment on a story', () => {
      expect(codes(input({ locationId: '123', firstComment: 'first!' }))).toEqual([]);
      expect(validatePost(input({ postType: 'story', locationId: '123', firstComment: 'first!' }))).toEqual([
        { field: 'locationId', code: 'location-not-supported', message: 'a story cannot carry a location' },
        { field: 'firstComment', code: 'first-comment-not-supported', message: 'a story cannot be commented on' },
      ]);
    });

    it('share to feed only on reels (false is harmless anywhere)', () => {
      expect(codes(input({ postType: 'reel', media: [video()], shareToFeed: true }))).toEqual([]);
      expect(codes(input({ shareToFeed: false }))).toEqual([]);
      expect(validatePost(input({ shareToFeed: true }))).toEqual([
        { field: 'shareToFeed', code: 'share-to-feed-not-supported', message: 'share to feed is for reels' },
      ]);
    });

    it('trial settings only on Instagram reels', () => {
      const trialParams = { graduationStrategy: 'MANUAL' as const };
      expect(codes(input({ postType: 'reel', media: [video()], trialParams }))).toEqual([]);
      const refused = { field: 'trialParams', code: 'trial-params-not-supported', message: 'trial settings are for Instagram reels' };
      expect(validatePost(input({ platform: 'facebook', postType: 'reel', media: [video()], trialParams }))).toEqual([refused]);
      expect(validatePost(input({ trialParams }))).toEqual([refused]);
    });
  });

  describe('the schedule', () => {
    it('a queued post’s time may be up to the skew behind now, not more', () => {
      const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
      expect(codes(input({}, { scheduledFor: at(-30_000) }))).toEqual([]);
      expect(validatePost(input({}, { scheduledFor: at(-30_001) }))).toEqual([
        { field: 'scheduledFor', code: 'schedule-in-past', message: 'the scheduled time has passed' },
      ]);
      expect(validatePost(input({}, { scheduledFor: null }))).toEqual([{ field: 'scheduledFor', code: 'schedule-required', message: 'a scheduled post needs a time' }]);
    });

    it('does not apply to drafts or to publishing now', () => {
      const past = new Date(now.getTime() - 86_400_000);
      expect(codes(input({}, { intent: 'draft', scheduledFor: past }))).toEqual([]);
      expect(codes(input({}, { intent: 'publish-now', scheduledFor: past }))).toEqual([]);
      expect(codes(input({}, { intent: 'draft', scheduledFor: null }))).toEqual([]);
    });
  });

  it('lists every violation at once, in a stable order', () => {
    const expired = { ...active, status: 'expired' as const, capabilities: { feed: true, stories: false, reels: true } };
    expect(
      codes(
        input(
          { postType: 'story', media: [video(0, { altText: 'x' })], caption: '#a '.repeat(31), collaborators: ['a'], locationId: '1', shareToFeed: true },
          { account: expired, scheduledFor: new Date(now.getTime() - 3_600_000) },
        ),
      ),
    ).toEqual([
      'socialAccountId:account-not-active',
      'postType:capability-missing',
      'hashtags:too-many-hashtags',
      'collaborators:collaborators-not-supported',
      'media[0].altText:alt-text-on-video',
      'locationId:location-not-supported',
      'shareToFeed:share-to-feed-not-supported',
      'scheduledFor:schedule-in-past',
    ]);
  });
});

describe('Facebook format', () => {
  const base = { platform: 'facebook' as const, postType: 'feed' as const };
  it.each([
    [{ ...base, media: [] }, 'text'],
    [{ ...base, media: [], link: 'https://postwire.example' }, 'link'],
    [{ ...base, media: [image()] }, 'photo'],
    [{ ...base, media: [video()] }, 'video'],
    [{ ...base, postType: 'carousel' as const, media: [image(0), image(1)] }, 'multi-photo'],
    [{ ...base, postType: 'reel' as const, media: [video()] }, 'reel'],
    [{ ...base, postType: 'story' as const, media: [image()] }, 'story'],
  ])('%o is a %s post', (content, format) => {
    expect(facebookFormat(content)).toBe(format);
  });

  it('is null on Instagram', () => {
    expect(facebookFormat({ platform: 'instagram', postType: 'feed', media: [image()] })).toBeNull();
  });
});
