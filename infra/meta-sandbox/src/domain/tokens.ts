import { DAY, HOUR, SECOND } from './clock.ts';

/**
 * Token kinds and their lifetimes, as Meta issues them. Each kind has its own prefix, so one path namespace
 * can serve graph.facebook.com and graph.instagram.com: the token says which API a call belongs to.
 */
export type TokenKind = 'facebook-user' | 'facebook-page' | 'instagram-user';

export const TOKEN_PREFIX = {
  'facebook-user': 'EAAU',
  'facebook-page': 'EAAP',
  'instagram-user': 'IGAA',
} as const satisfies Record<TokenKind, string>;

export function tokenKindOf(value: string): TokenKind | undefined {
  if (value.startsWith(TOKEN_PREFIX['facebook-user'])) return 'facebook-user';
  if (value.startsWith(TOKEN_PREFIX['facebook-page'])) return 'facebook-page';
  if (value.startsWith(TOKEN_PREFIX['instagram-user'])) return 'instagram-user';
  return undefined;
}

export const LIFETIMES = {
  /** Facebook short-lived user tokens last "about one to two hours". */
  facebookShortLivedMs: 2 * HOUR,
  /** Instagram Login short-lived tokens last one hour. */
  instagramShortLivedMs: 1 * HOUR,
  /** Long-lived user tokens: about 60 days; Meta answers expires_in 5183944. */
  longLivedMs: 5_183_944 * SECOND,
  /** Data access expires separately, after about 90 days. */
  dataAccessMs: 90 * DAY,
  /** Authorisation codes live one hour and are single use. */
  codeMs: 1 * HOUR,
  /** ig_refresh_token works only on a token at least 24 hours old. */
  refreshMinAgeMs: 24 * HOUR,
} as const;

export type InvalidationReason =
  | 'password_changed'
  | 'app_removed'
  | 'logged_out'
  | 'checkpointed'
  | 'unconfirmed'
  | 'security_event';

export const INVALIDATION_SUBCODES = {
  app_removed: 458,
  checkpointed: 459,
  password_changed: 460,
  security_event: 460,
  unconfirmed: 464,
  logged_out: 467,
} as const satisfies Record<InvalidationReason, number>;

export const INVALIDATION_REASONS = Object.keys(INVALIDATION_SUBCODES) as InvalidationReason[];

export type TokenRecord = {
  readonly value: string;
  readonly kind: TokenKind;
  readonly appId: string;
  /** The Facebook test user (Facebook tokens) or the Instagram account (Instagram Login tokens). */
  readonly subjectId: string;
  /** For page tokens: the Page the token acts as. */
  readonly pageId?: string | undefined;
  readonly scopes: readonly string[];
  readonly declinedScopes: readonly string[];
  /** Pages (and their IG accounts) the user selected in the dialog: granular_scopes target_ids. */
  readonly targetIds: readonly string[];
  readonly issuedAt: number;
  /** 0 means the token never expires (page tokens from a long-lived user token). */
  readonly expiresAt: number;
  readonly dataAccessExpiresAt: number;
  readonly longLived: boolean;
  invalidated?: { readonly reason: InvalidationReason; readonly at: number } | undefined;
};

export type TokenVerdict =
  | { readonly valid: true }
  | { readonly valid: false; readonly subcode: number | undefined; readonly message: string };

const VALID: TokenVerdict = { valid: true };

export function evaluateToken(token: TokenRecord, now: number): TokenVerdict {
  if (token.invalidated) {
    return { valid: false, subcode: INVALIDATION_SUBCODES[token.invalidated.reason], message: invalidationMessage(token) };
  }
  if (token.expiresAt !== 0 && now >= token.expiresAt) {
    return {
      valid: false,
      subcode: 463,
      message: `Error validating access token: Session has expired on ${new Date(token.expiresAt).toUTCString()}. The current time is ${new Date(now).toUTCString()}.`,
    };
  }
  if (now >= token.dataAccessExpiresAt) {
    return {
      valid: false,
      subcode: 463,
      message: 'Error validating access token: Data access for this user has expired. The user must log in again.',
    };
  }
  return VALID;
}

function invalidationMessage(token: TokenRecord): string {
  switch (token.invalidated?.reason) {
    case 'app_removed':
      return `Error validating access token: The user has not authorized application ${token.appId}.`;
    case 'checkpointed':
      return 'Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.';
    case 'password_changed':
    case 'security_event':
      return 'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.';
    case 'unconfirmed':
      return 'Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.';
    case 'logged_out':
      return 'Error validating access token: The user has logged out.';
    case undefined:
      return 'Error validating access token.';
  }
}

/** Seconds until expiry as Meta reports `expires_in`; undefined when the token never expires. */
export function expiresInSeconds(token: TokenRecord, now: number): number | undefined {
  if (token.expiresAt === 0) return undefined;
  return Math.max(0, Math.round((token.expiresAt - now) / SECOND));
}

export function refreshableAt(token: TokenRecord): number {
  return token.issuedAt + LIFETIMES.refreshMinAgeMs;
}

/** Scopes the Facebook Login dialog accepts. */
export const FACEBOOK_SCOPES = [
  'public_profile',
  'email',
  'pages_show_list',
  'pages_read_engagement',
  'pages_manage_posts',
  'pages_manage_metadata',
  'pages_read_user_content',
  'pages_manage_engagement',
  'publish_video',
  'read_insights',
  'business_management',
  'ads_read',
  'ads_management',
  'instagram_basic',
  'instagram_content_publish',
  'instagram_manage_insights',
  'instagram_manage_comments',
  'instagram_manage_contents',
] as const;

/** Scopes the Instagram Login dialog accepts (the old business_* names stopped working on 2025-01-27). */
export const INSTAGRAM_SCOPES = [
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_comments',
  'instagram_business_manage_insights',
  'instagram_business_manage_messages',
] as const;

/** Scopes whose grant is narrowed to the Pages/IG accounts picked in the dialog (granular_scopes). */
export const TARGETED_SCOPES = new Set<string>([
  'pages_show_list',
  'pages_read_engagement',
  'pages_manage_posts',
  'pages_manage_metadata',
  'pages_read_user_content',
  'pages_manage_engagement',
  'read_insights',
  'instagram_basic',
  'instagram_content_publish',
  'instagram_manage_insights',
  'instagram_manage_comments',
  'instagram_manage_contents',
]);

export function parseScopeList(raw: string | undefined): string[] {
  if (!raw) return [];
  return [...new Set(raw.split(/[\s,]+/).map((scope) => scope.trim()).filter(Boolean))];
}
