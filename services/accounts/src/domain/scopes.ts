import type { Platform } from '@postwire/contracts';

/** Publishing to an Instagram account linked to a Page (reference §1, Facebook Login). */
export const INSTAGRAM_PUBLISHING_SCOPES = ['instagram_basic', 'instagram_content_publish', 'pages_show_list', 'pages_read_engagement'] as const;
/** Posting to a Facebook Page. */
export const PAGE_POSTING_SCOPES = ['pages_manage_posts', 'pages_read_engagement', 'pages_show_list'] as const;
/** Instagram API with Instagram Login (the `business_*` names stopped working in January 2025). */
export const INSTAGRAM_LOGIN_SCOPES = ['instagram_business_basic', 'instagram_business_content_publish'] as const;

/**
 * Every scope a login must carry. A Facebook Login connects the chosen Pages and their Instagram accounts
 * in one go, so it needs both sets: connecting half of what the user picked would surprise them more than
 * a refusal that names what to grant.
 */
export function requiredScopes(platform: Platform): readonly string[] {
  return platform === 'facebook' ? [...new Set([...INSTAGRAM_PUBLISHING_SCOPES, ...PAGE_POSTING_SCOPES])] : INSTAGRAM_LOGIN_SCOPES;
}

export function missingScopes(platform: Platform, granted: readonly string[]): string[] {
  const have = new Set(granted);
  return requiredScopes(platform).filter((scope) => !have.has(scope));
}

export function missingScopesMessage(missing: readonly string[]): string {
  return `Postwire needs every permission it asked for to publish. Connect again and allow: ${missing.join(', ')}.`;
}
