import { DAY } from './clock.ts';
import { errors } from './errors.ts';

/**
 * Instagram container rules: what each kind of container accepts, the caption limits, and the status a
 * container reports as time passes. Pure: callers pass in the parameters and the time.
 */
export type AccountType = 'BUSINESS' | 'MEDIA_CREATOR';
export type LoginKind = 'facebook' | 'instagram';

export type UserTag = { readonly username: string; readonly x?: number | undefined; readonly y?: number | undefined };

export type ContainerRequest =
  | ({ readonly kind: 'image'; readonly imageUrl: string; readonly caption?: string | undefined } & FeedExtras)
  | ({
      readonly kind: 'reel';
      readonly videoUrl?: string | undefined;
      readonly caption?: string | undefined;
      readonly shareToFeed: boolean;
      readonly coverUrl?: string | undefined;
      readonly thumbOffsetMs?: number | undefined;
      readonly audioName?: string | undefined;
      readonly trialStrategy?: 'MANUAL' | 'SS_PERFORMANCE' | undefined;
      readonly resumable: boolean;
    } & FeedExtras)
  | {
      readonly kind: 'story';
      readonly imageUrl?: string | undefined;
      readonly videoUrl?: string | undefined;
      readonly userTags: readonly UserTag[];
      readonly resumable: boolean;
    }
  | {
      readonly kind: 'carousel-item';
      readonly imageUrl?: string | undefined;
      readonly videoUrl?: string | undefined;
      readonly userTags: readonly UserTag[];
      readonly altText?: string | undefined;
      readonly resumable: boolean;
    }
  | ({ readonly kind: 'carousel'; readonly children: readonly string[]; readonly caption?: string | undefined } & Omit<FeedExtras, 'altText' | 'userTags'>);

type FeedExtras = {
  readonly collaborators: readonly string[];
  readonly userTags: readonly UserTag[];
  readonly locationId?: string | undefined;
  readonly altText?: string | undefined;
};

export const CAPTION_MAX_LENGTH = 2200;
export const MAX_HASHTAGS = 30;
export const MAX_MENTIONS = 20;
export const MAX_COLLABORATORS = 3;
export const MAX_ALT_TEXT = 1000;
export const CAROUSEL_MIN = 2;
export const CAROUSEL_MAX = 10;
export const CONTAINER_TTL_MS = DAY;

export type Params = Readonly<Record<string, unknown>>;

export function str(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return JSON.stringify(value);
}

export function bool(params: Params, name: string): boolean | undefined {
  const value = str(params, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw errors.invalidParameter(`Param ${name} must be a boolean`);
}

/** Meta takes list parameters as JSON arrays or comma-separated strings. */
export function list(params: Params, name: string): string[] {
  const value = params[name];
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value).trim();
  if (text.startsWith('[')) {
    const parsed: unknown = parseJson(text, name);
    if (!Array.isArray(parsed)) throw errors.invalidParameter(`Param ${name} must be an array`);
    return parsed.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  return text.split(',').map((item) => item.trim()).filter(Boolean);
}

export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidParameter(`Param ${name} must be valid JSON`);
  }
}

/** `user_tags` on images (feed and carousel) need `x` and `y`; on stories and reels they are optional. */
function userTags(params: Params, needsPosition = false): UserTag[] {
  const raw = params.user_tags;
  if (raw === undefined || raw === '') return [];
  const parsed: unknown = typeof raw === 'string' ? parseJson(raw, 'user_tags') : raw;
  if (!Array.isArray(parsed)) throw errors.invalidParameter('Param user_tags must be an array of {username, x, y}');
  const tags = parsed.map((item: unknown): UserTag => {
    if (typeof item !== 'object' || item === null || typeof (item as { username?: unknown }).username !== 'string') {
      throw errors.invalidParameter('Each user tag needs a username');
    }
    const tag = item as { username: string; x?: unknown; y?: unknown };
    for (const axis of ['x', 'y'] as const) {
      const value = tag[axis];
      if (value !== undefined && (typeof value !== 'number' || value < 0 || value > 1)) {
        throw errors.invalidParameter(`User tag ${axis} must be a number between 0 and 1`);
      }
    }
    if (needsPosition && (tag.x === undefined || tag.y === undefined)) {
      throw errors.invalidParameter(`User tag ${tag.username} on an image needs x and y (0-1).`);
    }
    return { username: tag.username, x: tag.x as number | undefined, y: tag.y as number | undefined };
  });
  if (tags.length > MAX_MENTIONS) throw errors.tooManyTags(tags.length, 'user tags');
  return tags;
}

/** Checks a caption as Meta does on the final text (the caller appends any hashtag column first). */
export function checkCaption(caption: string): void {
  if ([...caption].length > CAPTION_MAX_LENGTH) throw errors.captionTooLong([...caption].length);
  const hashtags = caption.match(/#[\p{L}\p{N}_]+/gu)?.length ?? 0;
  if (hashtags > MAX_HASHTAGS) {
    throw errors.invalidParameter(`The caption has ${hashtags} hashtags; at most ${MAX_HASHTAGS} are allowed.`);
  }
  const mentions = caption.match(/(^|[^\w])@[A-Za-z0-9._]+/g)?.length ?? 0;
  if (mentions > MAX_MENTIONS) throw errors.tooManyTags(mentions, '@mentions');
}

/** Collaborator problems answer 100/2207018 (invalid collaborators), whatever the rule broken. */
function collaborators(params: Params): string[] {
  const names = list(params, 'collaborators');
  if (names.length > MAX_COLLABORATORS) {
    throw errors.invalidCollaborators(`At most ${MAX_COLLABORATORS} collaborators can be invited (got ${names.length}).`);
  }
  const prefixed = names.find((name) => name.startsWith('@'));
  if (prefixed !== undefined) throw errors.invalidCollaborators(`Collaborators are usernames without a leading @ (got ${prefixed}).`);
  return names;
}

/** `alt_text` is for images only (feed and carousel images): reels, stories and videos refuse it. */
function forbidAltText(params: Params, where: string): void {
  if (str(params, 'alt_text') !== undefined) throw errors.invalidParameter(`alt_text is only supported on images, not on ${where}.`);
}

function feedExtras(params: Params, kind: 'image' | 'reel' | 'carousel'): FeedExtras {
  if (kind !== 'image') forbidAltText(params, kind === 'reel' ? 'reels' : 'the carousel container (put it on each image)');
  const altText = altTextOf(params);
  const locationId = str(params, 'location_id');
  if (locationId !== undefined && !/^\d+$/.test(locationId)) throw errors.invalidParameter('location_id must be a Page id');
  return { collaborators: collaborators(params), userTags: userTags(params, kind === 'image'), locationId, altText };
}

function altTextOf(params: Params): string | undefined {
  const altText = str(params, 'alt_text');
  if (altText !== undefined && altText.length > MAX_ALT_TEXT) throw errors.invalidParameter(`alt_text is limited to ${MAX_ALT_TEXT} characters.`);
  return altText;
}

function caption(params: Params): string | undefined {
  const value = str(params, 'caption');
  if (value !== undefined) checkCaption(value);
  return value;
}

function forbid(params: Params, names: readonly string[], where: string): void {
  for (const name of names) {
    if (str(params, name) !== undefined) throw errors.invalidParameter(`The parameter ${name} is not supported on ${where}.`);
  }
}

/**
 * Turns the parameters of `POST /{ig-user-id}/media` into a container request, or throws the error Meta gives.
 */
export function parseContainerRequest(params: Params, context: { accountType: AccountType; login: LoginKind }): ContainerRequest {
  const mediaType = str(params, 'media_type')?.toUpperCase();
  const isCarouselItem = bool(params, 'is_carousel_item') ?? false;
  const uploadType = str(params, 'upload_type');
  if (uploadType !== undefined && uploadType !== 'resumable') throw errors.invalidParameter('upload_type must be resumable');
  const resumable = uploadType === 'resumable';
  if (resumable && context.login === 'instagram') {
    throw errors.invalidParameter('Resumable upload is only available with Facebook Login (graph.facebook.com).');
  }
  const imageUrl = str(params, 'image_url');
  const videoUrl = str(params, 'video_url');

  if (isCarouselItem) {
    forbid(params, ['caption'], 'carousel items (put the caption on the carousel)');
    if (str(params, 'collaborators') !== undefined) {
      throw errors.invalidCollaborators('Collaborators go on the carousel container, not on its items.');
    }
    forbid(params, ['location_id'], 'carousel items (put it on the carousel container)');
    if (mediaType === 'VIDEO') {
      forbidAltText(params, 'videos');
      if (!videoUrl && !resumable) throw errors.missingParameter('video_url');
      return { kind: 'carousel-item', videoUrl, userTags: userTags(params), resumable };
    }
    if (mediaType !== undefined && mediaType !== 'IMAGE') {
      throw errors.unknownMediaType(`media_type ${mediaType} cannot be a carousel item; use IMAGE (default) or VIDEO.`);
    }
    if (!imageUrl) throw errors.missingParameter('image_url');
    return { kind: 'carousel-item', imageUrl, userTags: userTags(params, true), altText: altTextOf(params), resumable: false };
  }

  switch (mediaType) {
    case undefined:
    case 'IMAGE': {
      if (videoUrl) throw errors.unknownMediaType('video_url needs media_type=REELS (feed videos are published as reels).');
      if (!imageUrl) throw errors.missingParameter('image_url');
      return { kind: 'image', imageUrl, caption: caption(params), ...feedExtras(params, 'image') };
    }
    case 'VIDEO':
      throw errors.unknownMediaType(
        'The VIDEO media type is no longer supported for single feed videos. Publish feed videos with media_type=REELS and share_to_feed=true.',
      );
    case 'REELS': {
      if (!videoUrl && !resumable) throw errors.missingParameter('video_url');
      const thumbOffsetRaw = str(params, 'thumb_offset');
      const thumbOffsetMs = thumbOffsetRaw === undefined ? undefined : Number(thumbOffsetRaw);
      if (thumbOffsetMs !== undefined && (!Number.isInteger(thumbOffsetMs) || thumbOffsetMs < 0)) throw errors.thumbOffset();
      return {
        kind: 'reel',
        videoUrl,
        caption: caption(params),
        shareToFeed: bool(params, 'share_to_feed') ?? true,
        coverUrl: str(params, 'cover_url'),
        thumbOffsetMs,
        audioName: str(params, 'audio_name'),
        trialStrategy: trialStrategy(params),
        resumable,
        ...feedExtras(params, 'reel'),
      };
    }
    case 'STORIES': {
      if (context.accountType !== 'BUSINESS') {
        throw errors.invalidParameter('Stories can only be published by Instagram business accounts, not creator accounts.');
      }
      forbid(params, ['caption'], 'stories');
      if (str(params, 'collaborators') !== undefined) throw errors.invalidCollaborators('Stories cannot have collaborators.');
      forbidAltText(params, 'stories');
      if (imageUrl && videoUrl) throw errors.invalidParameter('A story takes either image_url or video_url, not both.');
      if (!imageUrl && !videoUrl && !resumable) throw errors.missingParameter('image_url or video_url');
      return { kind: 'story', imageUrl, videoUrl, userTags: userTags(params), resumable };
    }
    case 'CAROUSEL': {
      const children = list(params, 'children');
      if (children.length < CAROUSEL_MIN || children.length > CAROUSEL_MAX) throw errors.carouselSize(children.length);
      if (new Set(children).size !== children.length) throw errors.invalidParameter('A carousel cannot use the same child twice.');
      const extras = feedExtras(params, 'carousel');
      return { kind: 'carousel', children, caption: caption(params), collaborators: extras.collaborators, locationId: extras.locationId };
    }
    default:
      throw errors.unknownMediaType(`The media type ${mediaType} is not supported; use REELS, STORIES, CAROUSEL or VIDEO for carousel items.`);
  }
}

function trialStrategy(params: Params): 'MANUAL' | 'SS_PERFORMANCE' | undefined {
  const raw = params.trial_params;
  if (raw === undefined || raw === '') return undefined;
  const parsed: unknown = typeof raw === 'string' ? parseJson(raw, 'trial_params') : raw;
  const strategy = typeof parsed === 'object' && parsed !== null ? (parsed as { graduation_strategy?: unknown }).graduation_strategy : undefined;
  if (strategy !== 'MANUAL' && strategy !== 'SS_PERFORMANCE') {
    throw errors.invalidParameter('trial_params.graduation_strategy must be MANUAL or SS_PERFORMANCE');
  }
  return strategy;
}

export type ContainerStatusCode = 'IN_PROGRESS' | 'FINISHED' | 'PUBLISHED' | 'ERROR' | 'EXPIRED' | '';

export type ContainerTimeline = {
  readonly createdAt: number;
  /** When processing finishes; undefined while a resumable upload has not arrived. */
  readonly readyAt: number | undefined;
  readonly publishedAt?: number | undefined;
  readonly errorSubcode?: number | undefined;
  readonly emptyStatusCode?: boolean | undefined;
};

export function containerStatus(container: ContainerTimeline, now: number): { statusCode: ContainerStatusCode; status: string } {
  if (container.publishedAt !== undefined) return { statusCode: 'PUBLISHED', status: 'Published: Media has been published.' };
  if (container.errorSubcode !== undefined) {
    return { statusCode: container.emptyStatusCode === true ? '' : 'ERROR', status: `Error: Media upload has failed with error code ${container.errorSubcode}` };
  }
  if (now >= container.createdAt + CONTAINER_TTL_MS) {
    return { statusCode: 'EXPIRED', status: 'Expired: Media was not published within 24 hours.' };
  }
  if (container.readyAt === undefined) return { statusCode: 'IN_PROGRESS', status: 'In Progress: Waiting for the media upload.' };
  if (now < container.readyAt) return { statusCode: 'IN_PROGRESS', status: 'In Progress: Media is still being processed.' };
  return { statusCode: 'FINISHED', status: 'Finished: Media has been uploaded and it is ready to be published.' };
}

/** Video limits checked on the bytes we can read cheaply (duration from the mvhd box). */
export function checkVideoDuration(kind: 'reel' | 'story' | 'carousel-item' | 'page-reel' | 'page-story', seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  const [min, max] =
    kind === 'reel' ? [3, 15 * 60] : kind === 'story' ? [3, 60] : kind === 'page-reel' ? [3, 90] : kind === 'page-story' ? [3, 60] : [3, 60];
  if (seconds < min || seconds > max) return `The video is ${seconds.toFixed(1)} s long; it must be between ${min} s and ${max} s.`;
  return undefined;
}

/** Feed images must be between 4:5 (0.8) and 1.91:1; Meta rescales widths outside 320-1440 rather than refusing. */
export function checkFeedAspectRatio(width: number | undefined, height: number | undefined): number | undefined {
  if (!width || !height) return undefined;
  const ratio = width / height;
  return ratio < 0.8 - 1e-3 || ratio > 1.91 + 1e-3 ? ratio : undefined;
}
