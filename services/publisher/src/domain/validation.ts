import type { AccountStatus, FacebookFormat, MediaItem, Platform, PostContent, PostType } from '@postwire/contracts';
import type { z } from 'zod';
import { countHashtags, countMentions, finalCaption } from './caption.ts';

/** Meta's limits on the text that reaches the platform (caption with the hashtags appended). */
export const LIMITS = { captionLength: 2200, hashtags: 30, mentions: 20, collaborators: 3, carouselMin: 2, carouselMax: 10 } as const;

/** Stable, kebab-case: the gateway and API clients branch on these, so they never change meaning. */
export type ViolationCode =
  | 'account-unknown'
  | 'account-platform-mismatch'
  | 'account-not-active'
  | 'capability-missing'
  | 'media-required'
  | 'carousel-size'
  | 'too-many-media'
  | 'media-type-mismatch'
  | 'feed-video-must-be-reel'
  | 'link-not-supported'
  | 'caption-too-long'
  | 'too-many-hashtags'
  | 'too-many-mentions'
  | 'collaborators-not-supported'
  | 'too-many-collaborators'
  | 'alt-text-on-video'
  | 'user-tag-position-required'
  | 'user-tags-not-supported'
  | 'cover-on-image'
  | 'location-not-supported'
  | 'first-comment-not-supported'
  | 'share-to-feed-not-supported'
  | 'trial-params-not-supported'
  | 'schedule-required'
  | 'schedule-in-past'
  // Found by the media probe (domain/media-probe.ts) when the post is accepted.
  | 'media-url-refused'
  | 'media-unreachable'
  | 'media-content-type';

export type Violation = { readonly field: string; readonly code: ViolationCode; readonly message: string };

/** The account as the publisher's projection knows it. */
export type AccountView = {
  readonly platform: Platform;
  readonly status: z.infer<typeof AccountStatus>;
  readonly capabilities: { readonly feed: boolean; readonly stories: boolean; readonly reels: boolean };
};

/**
 * What the request leads to: a draft (not publishing, so the account may be inactive for now), a queued post
 * (its time must not have passed), or one published now (its time is "now" by definition).
 */
export type Intent = 'draft' | 'queue' | 'publish-now';

export type ValidationInput = {
  readonly content: PostContent;
  readonly account: AccountView | null;
  readonly intent: Intent;
  readonly scheduledFor: Date | null;
  readonly now: Date;
  /** A scheduled time this far behind `now` still counts as now (clock skew between gateway and publisher). */
  readonly scheduleSkewMs: number;
};

const CAPABILITY: Readonly<Record<PostType, keyof AccountView['capabilities']>> = {
  feed: 'feed',
  carousel: 'feed',
  story: 'stories',
  reel: 'reels',
};

/** Every violation of a post at once, in a stable order; an empty list means the post may be accepted. */
export function validatePost(input: ValidationInput): Violation[] {
  return [...accountViolations(input), ...mediaViolations(input.content), ...textViolations(input.content), ...extrasViolations(input.content), ...scheduleViolations(input)];
}

function accountViolations({ account, content, intent }: ValidationInput): Violation[] {
  if (account === null) {
    return [{ field: 'socialAccountId', code: 'account-unknown', message: 'the account is not connected to your organisation' }];
  }
  const found: Violation[] = [];
  if (account.platform !== content.platform) {
    found.push({ field: 'platform', code: 'account-platform-mismatch', message: `the account is a ${account.platform} account, not ${content.platform}` });
  }
  if (intent !== 'draft' && account.status !== 'active') {
    found.push({ field: 'socialAccountId', code: 'account-not-active', message: `the account is ${account.status}; reconnect it before publishing` });
  }
  const capability = CAPABILITY[content.postType];
  if (!account.capabilities[capability]) {
    found.push({ field: 'postType', code: 'capability-missing', message: `the account cannot publish ${content.postType} posts` });
  }
  return found;
}

/** Facebook feed posts may have no media (text or link posts); everything else needs some. */
function textPostAllowed(content: PostContent): boolean {
  return content.platform === 'facebook' && content.postType === 'feed';
}

function mediaViolations(content: PostContent): Violation[] {
  const { media, postType, platform } = content;
  const found: Violation[] = [];
  if (media.length === 0 && !textPostAllowed(content)) {
    found.push({ field: 'media', code: 'media-required', message: `a ${postType} post needs media` });
  }
  if (postType === 'carousel' && media.length > 0 && (media.length < LIMITS.carouselMin || media.length > LIMITS.carouselMax)) {
    found.push({ field: 'media', code: 'carousel-size', message: `a carousel has ${LIMITS.carouselMin} to ${LIMITS.carouselMax} items, not ${media.length}` });
  }
  if (postType !== 'carousel' && media.length > 1) {
    found.push({ field: 'media', code: 'too-many-media', message: `a ${postType} post has one media item; use a carousel for more` });
  }
  media.forEach((item, index) => {
    const violation = mediaTypeViolation(platform, postType, item);
    if (violation) found.push({ field: `media[${index}].mediaType`, ...violation });
  });
  if (content.link !== undefined && !(textPostAllowed(content) && media.length === 0)) {
    found.push({ field: 'link', code: 'link-not-supported', message: 'a link is only for a Facebook feed post without media' });
  }
  return found;
}

function mediaTypeViolation(platform: Platform, postType: PostType, item: MediaItem): Omit<Violation, 'field'> | undefined {
  if (postType === 'reel' && item.mediaType !== 'video') {
    return { code: 'media-type-mismatch', message: 'a reel is a video' };
  }
  if (postType === 'feed' && platform === 'instagram' && item.mediaType === 'video') {
    return { code: 'feed-video-must-be-reel', message: 'Instagram publishes a single video as a reel: use post type reel' };
  }
  if (postType === 'carousel' && platform === 'facebook' && item.mediaType !== 'image') {
    return { code: 'media-type-mismatch', message: 'a Facebook multi-photo post takes images only' };
  }
  return undefined;
}

function textViolations(content: PostContent): Violation[] {
  const text = finalCaption(content.caption, content.hashtags);
  if (text === undefined) return [];
  const found: Violation[] = [];
  if (text.length > LIMITS.captionLength) {
    found.push({ field: 'caption', code: 'caption-too-long', message: `the caption with its hashtags is ${text.length} characters; at most ${LIMITS.captionLength}` });
  }
  const hashtags = countHashtags(text);
  if (hashtags > LIMITS.hashtags) {
    found.push({ field: 'hashtags', code: 'too-many-hashtags', message: `${hashtags} hashtags; at most ${LIMITS.hashtags}` });
  }
  const mentions = countMentions(text);
  if (mentions > LIMITS.mentions) {
    found.push({ field: 'caption', code: 'too-many-mentions', message: `${mentions} mentions; at most ${LIMITS.mentions}` });
  }
  return found;
}

function extrasViolations(content: PostContent): Violation[] {
  const { platform, postType } = content;
  const isStory = postType === 'story';
  const found: Violation[] = [];
  const collaborators = content.collaborators ?? [];
  if (collaborators.length > 0 && (isStory || platform === 'facebook')) {
    found.push({ field: 'collaborators', code: 'collaborators-not-supported', message: 'collaborators are for Instagram feed posts, carousels and reels' });
  }
  if (collaborators.length > LIMITS.collaborators) {
    found.push({ field: 'collaborators', code: 'too-many-collaborators', message: `at most ${LIMITS.collaborators} collaborators` });
  }
  content.media.forEach((item, index) => found.push(...itemViolations(item, `media[${index}]`, platform, isStory)));
  if (content.locationId !== undefined && isStory) {
    found.push({ field: 'locationId', code: 'location-not-supported', message: 'a story cannot carry a location' });
  }
  if (content.firstComment !== undefined && isStory) {
    found.push({ field: 'firstComment', code: 'first-comment-not-supported', message: 'a story cannot be commented on' });
  }
  if (content.shareToFeed === true && postType !== 'reel') {
    found.push({ field: 'shareToFeed', code: 'share-to-feed-not-supported', message: 'share to feed is for reels' });
  }
  if (content.trialParams !== undefined && !(platform === 'instagram' && postType === 'reel')) {
    found.push({ field: 'trialParams', code: 'trial-params-not-supported', message: 'trial settings are for Instagram reels' });
  }
  return found;
}

function itemViolations(item: MediaItem, path: string, platform: Platform, isStory: boolean): Violation[] {
  const found: Violation[] = [];
  const isVideo = item.mediaType === 'video';
  if (isVideo && item.altText !== undefined) {
    found.push({ field: `${path}.altText`, code: 'alt-text-on-video', message: 'alt text is for images' });
  }
  const tags = item.userTags ?? [];
  if (tags.length > 0 && platform === 'facebook') {
    found.push({ field: `${path}.userTags`, code: 'user-tags-not-supported', message: 'user tags are for Instagram posts' });
  }
  if (platform === 'instagram' && !isVideo && !isStory) {
    tags.forEach((tag, index) => {
      if (tag.x === undefined || tag.y === undefined) {
        found.push({ field: `${path}.userTags[${index}]`, code: 'user-tag-position-required', message: 'a tag on an image needs x and y' });
      }
    });
  }
  if (!isVideo && item.coverUrl !== undefined) {
    found.push({ field: `${path}.coverUrl`, code: 'cover-on-image', message: 'a cover is for videos' });
  }
  if (!isVideo && item.thumbOffsetMs !== undefined) {
    found.push({ field: `${path}.thumbOffsetMs`, code: 'cover-on-image', message: 'a thumbnail offset is for videos' });
  }
  return found;
}

function scheduleViolations({ intent, scheduledFor, now, scheduleSkewMs }: ValidationInput): Violation[] {
  if (intent !== 'queue') return [];
  if (scheduledFor === null) return [{ field: 'scheduledFor', code: 'schedule-required', message: 'a scheduled post needs a time' }];
  if (scheduledFor.getTime() < now.getTime() - scheduleSkewMs) {
    return [{ field: 'scheduledFor', code: 'schedule-in-past', message: 'the scheduled time has passed' }];
  }
  return [];
}

/**
 * A Facebook post's kind (FacebookFormat in packages/contracts): derived, never chosen; null on Instagram.
 * Validation has already refused what does not fit (a multi-photo post with a video, a reel of an image).
 */
export function facebookFormat(content: Pick<PostContent, 'platform' | 'postType' | 'media' | 'link'>): FacebookFormat | null {
  if (content.platform !== 'facebook') return null;
  switch (content.postType) {
    case 'reel':
      return 'reel';
    case 'story':
      return 'story';
    case 'carousel':
      return 'multi-photo';
    case 'feed': {
      const first = content.media[0];
      if (first === undefined) return content.link === undefined ? 'text' : 'link';
      return first.mediaType === 'video' ? 'video' : 'photo';
    }
  }
}
