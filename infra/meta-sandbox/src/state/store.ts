import type { MediaProbe } from '../domain/media-bytes.ts';
import type { AccountType, ContainerRequest, LoginKind } from '../domain/publishing.ts';
import type { TokenRecord } from '../domain/tokens.ts';
import type { UsageCounter } from '../domain/usage.ts';
import type { WebhookObject } from '../domain/webhooks.ts';
import { createIdGenerator } from '../domain/ids.ts';

/** Everything the sandbox knows, in memory. One store per sandbox instance; `resetStore` empties it. */
export type App = {
  readonly id: string;
  secret: string;
  name: string;
  redirectUris: string[];
  /** Facebook Login for Business: config_id -> scopes. */
  loginConfigs: Map<string, string[]>;
  subscriptions: Map<WebhookObject, WebhookSubscription>;
};

export type WebhookSubscription = {
  readonly object: WebhookObject;
  readonly callbackUrl: string;
  readonly verifyToken: string;
  readonly fields: string[];
  readonly verifiedAt: number;
};

export type TestUser = { readonly id: string; name: string; email: string; pageIds: string[] };

export type Page = {
  readonly id: string;
  name: string;
  category: string;
  instagramAccountId: string | undefined;
  /** A Page with a location can be an Instagram `location_id`. */
  location: { city: string; country: string; latitude: number; longitude: number } | undefined;
  /** app id -> subscribed webhook fields (POST /{page}/subscribed_apps). */
  subscribedApps: Map<string, string[]>;
};

export type InstagramAccount = {
  readonly id: string;
  username: string;
  name: string;
  accountType: AccountType;
  pageId: string | undefined;
  followersCount: number;
};

export type AuthCode = {
  readonly code: string;
  readonly login: LoginKind;
  readonly appId: string;
  readonly redirectUri: string;
  readonly subjectId: string;
  readonly scopes: string[];
  readonly declinedScopes: string[];
  readonly targetIds: string[];
  /** PKCE (RFC 7636), which Facebook Login's manual flow supports: the verifier must match at exchange. */
  readonly codeChallenge?: { readonly value: string; readonly method: 'S256' | 'plain' };
  readonly createdAt: number;
  usedAt: number | undefined;
};

export type Container = {
  readonly id: string;
  readonly igUserId: string;
  readonly appId: string;
  readonly login: LoginKind;
  readonly request: ContainerRequest;
  readonly createdAt: number;
  readonly isVideo: boolean;
  readyAt: number | undefined;
  errorSubcode: number | undefined;
  /** A failure seen in the wild: `status` names the error while `status_code` is empty. */
  emptyStatusCode?: boolean | undefined;
  probe: MediaProbe | undefined;
  publishedAt: number | undefined;
  mediaId: string | undefined;
  usedByCarousel: string | undefined;
};

export type InstagramMedia = {
  readonly id: string;
  readonly igUserId: string;
  readonly containerId: string;
  readonly mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM';
  readonly productType: 'FEED' | 'REELS' | 'STORY';
  readonly caption: string | undefined;
  readonly shortcode: string;
  readonly mediaUrl: string | undefined;
  readonly publishedAt: number;
  readonly childIds: string[];
  readonly parentId: string | undefined;
  readonly collaborators: readonly string[];
  commentIds: string[];
  deletedAt: number | undefined;
};

export type InstagramComment = {
  readonly id: string;
  readonly mediaId: string;
  readonly text: string;
  readonly fromId: string;
  readonly fromUsername: string;
  readonly createdAt: number;
};

export type PagePostKind = 'status' | 'photo' | 'video' | 'reel' | 'story';

export type PagePost = {
  readonly id: string;
  readonly pageId: string;
  readonly kind: PagePostKind;
  readonly message: string | undefined;
  readonly link: string | undefined;
  readonly photoIds: string[];
  readonly videoId: string | undefined;
  readonly createdAt: number;
  /** Scheduled posts become visible at this time. */
  readonly publishAt: number;
  readonly published: boolean;
  deletedAt: number | undefined;
};

export type PagePhoto = {
  readonly id: string;
  readonly pageId: string;
  readonly url: string;
  readonly caption: string | undefined;
  readonly published: boolean;
  readonly createdAt: number;
  postId: string | undefined;
  deletedAt: number | undefined;
};

export type PageVideo = {
  readonly id: string;
  readonly pageId: string;
  readonly purpose: 'video' | 'reel' | 'story';
  readonly createdAt: number;
  title: string | undefined;
  description: string | undefined;
  uploadedAt: number | undefined;
  probe: MediaProbe | undefined;
  processedAt: number | undefined;
  postId: string | undefined;
  error: string | undefined;
  /** The bytes sent to the upload URL were refused (`video_status: upload_failed`). */
  uploadFailed?: string | undefined;
  deletedAt: number | undefined;
};

export type Store = ReturnType<typeof createStore>;

export function createStore() {
  return {
    ids: createIdGenerator(),
    apps: new Map<string, App>(),
    users: new Map<string, TestUser>(),
    pages: new Map<string, Page>(),
    instagramAccounts: new Map<string, InstagramAccount>(),
    tokens: new Map<string, TokenRecord>(),
    /** `${userToken}:${pageId}` -> page token, so /me/accounts hands out the same page token each time. */
    pageTokens: new Map<string, string>(),
    codes: new Map<string, AuthCode>(),
    containers: new Map<string, Container>(),
    media: new Map<string, InstagramMedia>(),
    comments: new Map<string, InstagramComment>(),
    posts: new Map<string, PagePost>(),
    photos: new Map<string, PagePhoto>(),
    videos: new Map<string, PageVideo>(),
    /** ig user id -> publish times (for the rolling 24 h quota). */
    publishLog: new Map<string, number[]>(),
    /** ig user id -> container creation times (400 per rolling 24 h). */
    containerLog: new Map<string, number[]>(),
    /** page id -> reel start times (30 per rolling 24 h). */
    reelLog: new Map<string, number[]>(),
    appUsage: new Map<string, UsageCounter>(),
    businessUsage: new Map<string, UsageCounter>(),
  };
}

export function resetStore(store: Store): void {
  store.ids.reset();
  for (const value of Object.values(store)) {
    if (value instanceof Map) value.clear();
  }
}

/**
 * The times in a rolling-window log that are still inside `windowMs`, oldest dropped in place. Times are
 * appended in clock order (the sandbox clock only moves forward), so the stale ones are a prefix.
 */
export function recentTimes(log: Map<string, number[]>, key: string, now: number, windowMs: number): number[] {
  const times = log.get(key) ?? [];
  let stale = 0;
  while (stale < times.length && (times[stale] ?? 0) <= now - windowMs) stale += 1;
  if (stale > 0) times.splice(0, stale);
  log.set(key, times);
  return times;
}

/** Finds what kind of object an id names, for the generic `/{id}` routes. */
export function objectKind(store: Store, id: string) {
  if (store.containers.has(id)) return 'instagram-container' as const;
  if (store.media.has(id)) return 'instagram-media' as const;
  if (store.instagramAccounts.has(id)) return 'instagram-user' as const;
  if (store.comments.has(id)) return 'instagram-comment' as const;
  if (store.posts.has(id)) return 'page-post' as const;
  if (store.photos.has(id)) return 'page-photo' as const;
  if (store.videos.has(id)) return 'page-video' as const;
  if (store.pages.has(id)) return 'page' as const;
  if (store.users.has(id)) return 'facebook-user' as const;
  if (store.apps.has(id)) return 'application' as const;
  return undefined;
}

export type ObjectKind = NonNullable<ReturnType<typeof objectKind>>;

export const OBJECT_KINDS: readonly ObjectKind[] = [
  'instagram-container',
  'instagram-media',
  'instagram-user',
  'instagram-comment',
  'page-post',
  'page-photo',
  'page-video',
  'page',
  'facebook-user',
  'application',
];
