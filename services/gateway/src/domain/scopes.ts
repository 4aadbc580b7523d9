import type { Provider } from './connect-session.ts';

/**
 * What the connect dialogs ask for (reference §1): publishing to Instagram through a Page and to the
 * Page itself, insights, comments (first comment), video, and business-owned Pages. The accounts
 * service checks after consent that every scope it needs was granted and names any that was not.
 */
export const REQUESTED_SCOPES: Readonly<Record<Provider, readonly string[]>> = {
  facebook: [
    'pages_show_list',
    'pages_read_engagement',
    'pages_manage_posts',
    'publish_video',
    'read_insights',
    'business_management',
    'instagram_basic',
    'instagram_content_publish',
    'instagram_manage_insights',
    'instagram_manage_comments',
  ],
  instagram: [
    'instagram_business_basic',
    'instagram_business_content_publish',
    'instagram_business_manage_insights',
    'instagram_business_manage_comments',
  ],
};

/**
 * Each permission the dialogs ask for, in the words a person sees beside its scope name on a result
 * page (what Postwire can do with it, not how Meta names it).
 */
export const SCOPE_WORDS: Readonly<Record<string, string>> = {
  pages_show_list: 'See the list of Facebook Pages you manage',
  pages_read_engagement: "Read your Pages' posts, followers and engagement",
  pages_manage_posts: 'Publish posts to your Facebook Pages',
  publish_video: 'Publish videos to your Facebook Pages',
  read_insights: "Read your Pages' insights",
  business_management: 'See the Pages and Instagram accounts your business owns',
  instagram_basic: "See your Instagram account's profile and posts",
  instagram_content_publish: 'Publish posts to your Instagram account',
  instagram_manage_insights: "Read your Instagram account's insights",
  instagram_manage_comments: 'Comment on your Instagram posts',
  instagram_business_basic: "See your Instagram account's profile and posts",
  instagram_business_content_publish: 'Publish posts to your Instagram account',
  instagram_business_manage_insights: "Read your Instagram account's insights",
  instagram_business_manage_comments: 'Comment on your Instagram posts',
};

/** A scope in words, or undefined for one Postwire does not ask for (shown by its name alone). */
export function scopeInWords(scope: string): string | undefined {
  return Object.hasOwn(SCOPE_WORDS, scope) ? SCOPE_WORDS[scope] : undefined;
}

/** Instagram Login documents no PKCE; Facebook Login's manual flow supports it. */
export const SUPPORTS_PKCE: Readonly<Record<Provider, boolean>> = { facebook: true, instagram: false };
