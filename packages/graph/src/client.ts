import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { GraphSettings } from './config.ts';
import { GraphApiError } from './errors.ts';
import { createTransport, type GraphClientDependencies, type Params, type RequestOptions } from './http.ts';
import { createPageMethods } from './pages.ts';
import * as schemas from './schemas.ts';

export type TokenGrant = {
  readonly accessToken: string;
  readonly tokenType: string | undefined;
  /** Seconds; absent when Meta gives no expiry. */
  readonly expiresIn: number | undefined;
};

export type FacebookPage = {
  readonly id: string;
  readonly name: string;
  readonly accessToken: string;
  readonly category: string | undefined;
  readonly tasks: readonly string[];
};

export type InstagramProfile = {
  readonly id: string;
  readonly username: string;
  readonly name: string | undefined;
  readonly profilePictureUrl: string | undefined;
  readonly accountType: string | undefined;
};

export type InstagramMe = InstagramProfile & {
  /** The Instagram professional account id (what publishing calls use); `id` is app-scoped. */
  readonly userId: string;
};

export type Permissions = { readonly granted: readonly string[]; readonly declined: readonly string[]; readonly expired: readonly string[] };

export type DebugTokenInfo = {
  readonly appId: string | undefined;
  readonly type: string | undefined;
  readonly isValid: boolean;
  /** null: never expires (Meta's `expires_at: 0`, e.g. Page tokens from a long-lived user token). */
  readonly expiresAt: Date | null;
  readonly dataAccessExpiresAt: Date | null;
  readonly scopes: readonly string[];
  readonly granularScopes: readonly { readonly scope: string; readonly targetIds: readonly string[] }[];
  readonly userId: string | undefined;
  readonly profileId: string | undefined;
  readonly error: { readonly code: number | undefined; readonly subcode: number | undefined; readonly message: string | undefined } | undefined;
};

export type InstagramCodeGrant = { readonly accessToken: string; readonly userId: string; readonly permissions: readonly string[] };

type UserTag = { readonly username: string; readonly x?: number; readonly y?: number };

/** What `POST /{ig-id}/media` accepts, per kind (reference §2). Captions and collaborators only where Meta takes them. */
export type MediaContainerParams =
  | {
      readonly kind: 'image';
      readonly imageUrl: string;
      readonly caption?: string;
      readonly altText?: string;
      readonly locationId?: string;
      readonly userTags?: readonly UserTag[];
      readonly collaborators?: readonly string[];
    }
  | {
      readonly kind: 'reel';
      readonly videoUrl?: string;
      readonly caption?: string;
      readonly shareToFeed?: boolean;
      readonly coverUrl?: string;
      readonly thumbOffsetMs?: number;
      readonly audioName?: string;
      readonly locationId?: string;
      readonly userTags?: readonly UserTag[];
      readonly collaborators?: readonly string[];
      readonly trialParams?: { readonly graduationStrategy: 'MANUAL' | 'SS_PERFORMANCE' };
      /** Facebook Login only: answer an upload `uri` instead of fetching `videoUrl`. */
      readonly uploadType?: 'resumable';
    }
  | { readonly kind: 'story'; readonly imageUrl?: string; readonly videoUrl?: string; readonly userTags?: readonly UserTag[] }
  | {
      readonly kind: 'carousel-item';
      readonly imageUrl?: string;
      readonly videoUrl?: string;
      readonly altText?: string;
      readonly userTags?: readonly UserTag[];
    }
  | {
      readonly kind: 'carousel';
      readonly children: readonly string[];
      readonly caption?: string;
      readonly locationId?: string;
      readonly collaborators?: readonly string[];
    };

export function containerParams(input: MediaContainerParams): Params {
  switch (input.kind) {
    case 'image':
      return {
        image_url: input.imageUrl,
        caption: input.caption,
        alt_text: input.altText,
        location_id: input.locationId,
        user_tags: input.userTags,
        collaborators: input.collaborators,
      };
    case 'reel':
      return {
        media_type: 'REELS',
        video_url: input.videoUrl,
        caption: input.caption,
        share_to_feed: input.shareToFeed,
        cover_url: input.coverUrl,
        thumb_offset: input.thumbOffsetMs,
        audio_name: input.audioName,
        location_id: input.locationId,
        user_tags: input.userTags,
        collaborators: input.collaborators,
        trial_params: input.trialParams === undefined ? undefined : { graduation_strategy: input.trialParams.graduationStrategy },
        upload_type: input.uploadType,
      };
    case 'story':
      return { media_type: 'STORIES', image_url: input.imageUrl, video_url: input.videoUrl, user_tags: input.userTags };
    case 'carousel-item':
      // Video children still say VIDEO: only single feed videos moved to REELS.
      return {
        is_carousel_item: true,
        ...(input.videoUrl === undefined ? { image_url: input.imageUrl } : { media_type: 'VIDEO', video_url: input.videoUrl }),
        alt_text: input.altText,
        user_tags: input.userTags,
      };
    case 'carousel':
      return { media_type: 'CAROUSEL', children: input.children.join(','), caption: input.caption, location_id: input.locationId, collaborators: input.collaborators };
  }
}

export type ContainerStatus = {
  readonly id: string;
  /** Undefined when Meta answered an empty `status_code` (then `status` may carry an error text). */
  readonly statusCode: 'IN_PROGRESS' | 'FINISHED' | 'PUBLISHED' | 'ERROR' | 'EXPIRED' | undefined;
  readonly status: string | undefined;
};
/** One of an Instagram account's published media, as a reconciliation reads it back. */
export type AccountMedia = {
  readonly id: string;
  readonly caption: string | undefined;
  readonly timestamp: Date | undefined;
  readonly mediaType: string | undefined;
  readonly mediaProductType: string | undefined;
  readonly permalink: string | undefined;
};
export type PublishingLimit = { readonly quotaUsage: number; readonly quotaTotal: number | undefined; readonly quotaDurationSeconds: number | undefined };
export type MediaInfo = {
  readonly id: string;
  readonly permalink: string | undefined;
  readonly shortcode: string | undefined;
  readonly timestamp: string | undefined;
  readonly mediaType: string | undefined;
  readonly mediaProductType: string | undefined;
  readonly likeCount: number | undefined;
  readonly commentsCount: number | undefined;
};
export type InsightValue = { readonly name: string; readonly period: string | undefined; readonly value: number | undefined; readonly title: string | undefined };

type DialogScopes = { readonly scopes: readonly string[]; readonly configId?: undefined } | { readonly configId?: string; readonly scopes?: undefined };

/** Meta appends `#_=_` (Facebook) or `#_` (Instagram) to the redirect; a code copied with it is refused. */
export function cleanCode(code: string): string {
  return code.replace(/#_(=_)?$/, '');
}

/** PKCE (RFC 7636, S256) for Facebook Login: keep `verifier` with the OAuth state, send `challenge` in the dialog URL. */
export function createPkcePair(): { readonly verifier: string; readonly challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const MAX_PAGES = 50;

function tokenGrant(answer: z.output<typeof schemas.tokenAnswer>): TokenGrant {
  return { accessToken: answer.access_token, tokenType: answer.token_type, expiresIn: answer.expires_in };
}

function epoch(seconds: number | undefined): Date | null {
  return seconds === undefined || seconds === 0 ? null : new Date(seconds * 1000);
}

export type GraphClient = ReturnType<typeof createGraphClient>;

/**
 * Every Meta call Postwire makes goes through here. Methods take the token they act with (the client holds
 * no user state), return zod-checked data, and record usage headers in `usage`. Errors are GraphApiError,
 * GraphNetworkError or GraphResponseError; `classifyGraphError` says what to do about them.
 */
export function createGraphClient(settings: GraphSettings, dependencies: GraphClientDependencies = {}) {
  const transport = createTransport(settings, dependencies);
  const get = <S extends z.ZodType>(path: string, options: RequestOptions<S>) => transport.request('GET', path, options);
  const post = <S extends z.ZodType>(path: string, options: RequestOptions<S>) => transport.request('POST', path, options);
  const del = <S extends z.ZodType>(path: string, options: RequestOptions<S>) => transport.request('DELETE', path, options);
  const client = { id: settings.appId, secret: settings.appSecret };
  const appToken = () => `${client.id}|${client.secret}`;
  const segment = (id: string) => encodeURIComponent(id);

  async function instagramProfile(igId: string, token: string): Promise<InstagramProfile> {
    const fields = 'id,username,name,profile_picture_url';
    let answer: z.output<typeof schemas.instagramProfileAnswer>;
    try {
      answer = await get(`/${segment(igId)}`, { token, params: { fields: `${fields},account_type` }, schema: schemas.instagramProfileAnswer });
    } catch (error) {
      // Meta documents account_type for Instagram Login only; with a Facebook token it may refuse the field (100).
      if (!(error instanceof GraphApiError) || error.code !== 100 || error.subcode !== undefined) throw error;
      answer = await get(`/${segment(igId)}`, { token, params: { fields }, schema: schemas.instagramProfileAnswer });
    }
    return { id: answer.id, username: answer.username, name: answer.name, profilePictureUrl: answer.profile_picture_url, accountType: answer.account_type };
  }

  return {
    settings,
    usage: transport.usage,
    get,
    post,
    delete: del,
    /** Facebook Page publishing (pages.ts). */
    pages: createPageMethods(transport, settings),

    // Facebook Login

    facebookDialogUrl(input: { readonly redirectUri: string; readonly state: string; readonly codeChallenge?: string } & DialogScopes): string {
      const url = new URL(`${settings.baseUrls.facebookDialog}/${settings.version}/dialog/oauth`);
      url.searchParams.set('client_id', client.id);
      url.searchParams.set('redirect_uri', input.redirectUri);
      url.searchParams.set('state', input.state);
      url.searchParams.set('response_type', 'code');
      if (input.scopes !== undefined) url.searchParams.set('scope', input.scopes.join(','));
      else {
        const configId = input.configId ?? settings.loginConfigId;
        if (configId === undefined) throw new Error('facebookDialogUrl needs scopes or a Login for Business configuration id (META_LOGIN_CONFIG_ID)');
        url.searchParams.set('config_id', configId);
      }
      if (input.codeChallenge !== undefined) {
        url.searchParams.set('code_challenge', input.codeChallenge);
        url.searchParams.set('code_challenge_method', 'S256');
      }
      return url.toString();
    },

    async exchangeFacebookCode(input: { readonly code: string; readonly redirectUri: string; readonly codeVerifier?: string }): Promise<TokenGrant> {
      const answer = await get('/oauth/access_token', {
        params: { client_id: client.id, client_secret: client.secret, redirect_uri: input.redirectUri, code: cleanCode(input.code), code_verifier: input.codeVerifier },
        schema: schemas.tokenAnswer,
        // A code is single use: if the answer is lost, a retry fails with 36009 and hides the real outcome.
        retries: 0,
      });
      return tokenGrant(answer);
    },

    async exchangeForLongLivedUserToken(shortToken: string): Promise<TokenGrant> {
      const answer = await get('/oauth/access_token', {
        params: { grant_type: 'fb_exchange_token', client_id: client.id, client_secret: client.secret, fb_exchange_token: shortToken },
        schema: schemas.tokenAnswer,
      });
      return tokenGrant(answer);
    },

    /** The Pages the user picked in the dialog, each with its Page token; follows `paging.next`. */
    async listPages(userToken: string): Promise<FacebookPage[]> {
      const pages: FacebookPage[] = [];
      let params: Params = { fields: 'id,name,access_token,category,tasks', limit: 100 };
      for (let round = 0; round < MAX_PAGES; round += 1) {
        const answer = await get('/me/accounts', { token: userToken, params, schema: schemas.pageList });
        for (const page of answer.data) {
          pages.push({ id: page.id, name: page.name, accessToken: page.access_token, category: page.category, tasks: page.tasks ?? [] });
        }
        const next = answer.paging?.next;
        if (next === undefined || answer.data.length === 0) break;
        // Only the cursor is taken from `next`: the request stays on our configured host, with our token and proof.
        const after = new URL(next).searchParams.get('after');
        if (after === null) break;
        params = { ...params, after };
      }
      return pages;
    },

    /** The Instagram professional account linked to a Page, or undefined when there is none. */
    async pageInstagramAccount(pageId: string, pageToken: string): Promise<{ readonly id: string } | undefined> {
      const answer = await get(`/${segment(pageId)}`, { token: pageToken, params: { fields: 'instagram_business_account' }, schema: schemas.pageInstagram });
      return answer.instagram_business_account === undefined ? undefined : { id: answer.instagram_business_account.id };
    },

    instagramProfile,

    async permissions(userToken: string): Promise<Permissions> {
      const answer = await get('/me/permissions', { token: userToken, schema: schemas.permissionsAnswer });
      const having = (status: string) => answer.data.filter((entry) => entry.status === status).map((entry) => entry.permission);
      return { granted: having('granted'), declined: having('declined'), expired: having('expired') };
    },

    /** Inspects any token with the app token `{app-id}|{app-secret}`. */
    async debugToken(inputToken: string): Promise<DebugTokenInfo> {
      const { data } = await get('/debug_token', { token: appToken(), params: { input_token: inputToken }, schema: schemas.debugTokenAnswer });
      return {
        appId: data.app_id,
        type: data.type,
        isValid: data.is_valid,
        expiresAt: epoch(data.expires_at),
        dataAccessExpiresAt: epoch(data.data_access_expires_at),
        scopes: data.scopes,
        granularScopes: data.granular_scopes.map((entry) => ({ scope: entry.scope, targetIds: entry.target_ids ?? [] })),
        userId: data.user_id,
        profileId: data.profile_id,
        error: data.error === undefined ? undefined : { code: data.error.code, subcode: data.error.subcode, message: data.error.message },
      };
    },

    // Instagram Login

    instagramDialogUrl(input: { readonly redirectUri: string; readonly state: string; readonly scopes: readonly string[] }): string {
      const url = new URL(`${settings.baseUrls.instagramDialog}/oauth/authorize`);
      url.searchParams.set('client_id', client.id);
      url.searchParams.set('redirect_uri', input.redirectUri);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('scope', input.scopes.join(','));
      url.searchParams.set('state', input.state);
      return url.toString();
    },

    async exchangeInstagramCode(input: { readonly code: string; readonly redirectUri: string }): Promise<InstagramCodeGrant> {
      const answer = await post('/oauth/access_token', {
        host: 'instagramApi',
        versioned: false,
        params: { client_id: client.id, client_secret: client.secret, grant_type: 'authorization_code', redirect_uri: input.redirectUri, code: cleanCode(input.code) },
        schema: schemas.instagramCodeAnswer,
      });
      const permissions = answer.permissions === undefined ? [] : typeof answer.permissions === 'string' ? answer.permissions.split(',').filter(Boolean) : answer.permissions;
      return { accessToken: answer.access_token, userId: answer.user_id, permissions };
    },

    async exchangeForLongLivedInstagramToken(shortToken: string): Promise<TokenGrant> {
      const answer = await get('/access_token', {
        host: 'instagramGraph',
        versioned: false,
        token: shortToken,
        params: { grant_type: 'ig_exchange_token', client_secret: client.secret },
        schema: schemas.tokenAnswer,
      });
      return tokenGrant(answer);
    },

    /** Works on a valid long-lived token at least 24 h old; the answer is a new token good for another 60 days. */
    async refreshInstagramToken(token: string): Promise<TokenGrant> {
      const answer = await get('/refresh_access_token', {
        host: 'instagramGraph',
        versioned: false,
        token,
        params: { grant_type: 'ig_refresh_token' },
        schema: schemas.tokenAnswer,
      });
      return tokenGrant(answer);
    },

    async instagramMe(token: string): Promise<InstagramMe> {
      const answer = await get('/me', {
        host: 'instagramGraph',
        token,
        params: { fields: 'id,user_id,username,name,account_type,profile_picture_url' },
        schema: schemas.instagramMeAnswer,
      });
      return {
        id: answer.id,
        userId: answer.user_id ?? answer.id,
        username: answer.username,
        name: answer.name,
        accountType: answer.account_type,
        profilePictureUrl: answer.profile_picture_url,
      };
    },

    // Instagram publishing (Facebook Login or Instagram Login tokens; the token picks the host)

    async contentPublishingLimit(igId: string, token: string, since?: Date): Promise<PublishingLimit> {
      const answer = await get(`/${segment(igId)}/content_publishing_limit`, {
        token,
        params: { fields: 'quota_usage,config', since: since === undefined ? undefined : Math.floor(since.getTime() / 1000) },
        schema: schemas.publishingLimitAnswer,
      });
      const entry = answer.data[0];
      return { quotaUsage: entry?.quota_usage ?? 0, quotaTotal: entry?.config?.quota_total, quotaDurationSeconds: entry?.config?.quota_duration };
    },

    /** Not retried: a lost answer may still have created a container. Persist the id before doing anything else. */
    async createMediaContainer(igId: string, token: string, params: MediaContainerParams): Promise<{ readonly id: string; readonly uploadUri: string | undefined }> {
      const answer = await post(`/${segment(igId)}/media`, { token, params: containerParams(params), schema: schemas.containerAnswer });
      return { id: answer.id, uploadUri: answer.uri };
    },

    async containerStatus(containerId: string, token: string): Promise<ContainerStatus> {
      const answer = await get(`/${segment(containerId)}`, { token, params: { fields: 'id,status_code,status' }, schema: schemas.containerStatusAnswer });
      return { id: answer.id, statusCode: answer.status_code, status: answer.status };
    },

    async publishMedia(igId: string, token: string, creationId: string): Promise<{ readonly id: string }> {
      const answer = await post(`/${segment(igId)}/media_publish`, { token, params: { creation_id: creationId }, schema: schemas.idAnswer });
      return { id: answer.id };
    },

    async mediaInfo(mediaId: string, token: string): Promise<MediaInfo> {
      const answer = await get(`/${segment(mediaId)}`, {
        token,
        params: { fields: 'id,permalink,shortcode,timestamp,media_type,media_product_type,like_count,comments_count' },
        schema: schemas.mediaInfoAnswer,
      });
      return {
        id: answer.id,
        permalink: answer.permalink,
        shortcode: answer.shortcode,
        timestamp: answer.timestamp,
        mediaType: answer.media_type,
        mediaProductType: answer.media_product_type,
        likeCount: answer.like_count,
        commentsCount: answer.comments_count,
      };
    },

    /**
     * Deletes an Instagram media (`DELETE /{ig-media-id}`, Facebook Login with instagram_manage_contents) or a Page
     * post (`DELETE /{post-id}`). False when Meta says the object cannot be deleted (-1/2207073: an Instagram Login
     * token, a carousel child): only Postwire's copy goes then. Other errors throw, to be classified.
     */
    async deleteObject(id: string, token: string): Promise<boolean> {
      try {
        const answer = await del(`/${segment(id)}`, { token, schema: schemas.successAnswer });
        return answer.success;
      } catch (error) {
        if (error instanceof GraphApiError && error.code === -1 && error.subcode === 2207073) return false;
        throw error;
      }
    },

    /**
     * The account's published media (or, with `stories`, its live stories), newest first, between `since` and
     * `until` (inclusive, second precision); follows `paging.next` up to `maxItems`. What a publisher reads to
     * find out whether an unclear `media_publish` went through.
     */
    async listAccountMedia(
      igId: string,
      token: string,
      options: { readonly since?: Date; readonly until?: Date; readonly stories?: boolean; readonly maxItems?: number } = {},
    ): Promise<AccountMedia[]> {
      const found: AccountMedia[] = [];
      const maxItems = options.maxItems ?? 200;
      const unix = (date: Date | undefined) => (date === undefined ? undefined : Math.floor(date.getTime() / 1000));
      let params: Params = {
        fields: 'id,caption,timestamp,media_type,media_product_type,permalink',
        since: unix(options.since),
        until: options.until === undefined ? undefined : Math.ceil(options.until.getTime() / 1000),
        limit: 50,
      };
      for (let round = 0; round < MAX_PAGES && found.length < maxItems; round += 1) {
        const answer = await get(`/${segment(igId)}/${options.stories === true ? 'stories' : 'media'}`, { token, params, schema: schemas.accountMediaList });
        for (const entry of answer.data) {
          const at = entry.timestamp === undefined ? Number.NaN : Date.parse(entry.timestamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
          found.push({
            id: entry.id,
            caption: entry.caption,
            timestamp: Number.isNaN(at) ? undefined : new Date(at),
            mediaType: entry.media_type,
            mediaProductType: entry.media_product_type,
            permalink: entry.permalink,
          });
        }
        const next = answer.paging?.next;
        if (next === undefined || answer.data.length === 0) break;
        // Only the cursor is taken from `next`, as with listPages.
        const after = new URL(next).searchParams.get('after');
        if (after === null) break;
        params = { ...params, after };
      }
      return found.slice(0, maxItems);
    },

    /** Not retried (a write): a caller that lost the answer must read the comments before commenting again. */
    async createComment(mediaId: string, token: string, message: string): Promise<{ readonly id: string }> {
      const answer = await post(`/${segment(mediaId)}/comments`, { token, params: { message }, schema: schemas.idAnswer });
      return { id: answer.id };
    },

    /** Missing data comes back as an empty list (not zeros): callers must not read absence as 0. */
    async mediaInsights(mediaId: string, token: string, metrics: readonly string[]): Promise<InsightValue[]> {
      const answer = await get(`/${segment(mediaId)}/insights`, { token, params: { metric: metrics.join(',') }, schema: schemas.insightsAnswer });
      return answer.data.map((entry) => {
        const raw = entry.values?.[0]?.value ?? entry.total_value?.value;
        return { name: entry.name, period: entry.period, title: entry.title, value: typeof raw === 'number' ? raw : undefined };
      });
    },
  };
}
