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

/** Instagram Login documents no PKCE; Facebook Login's manual flow supports it. */
export const SUPPORTS_PKCE: Readonly<Record<Provider, boolean>> = { facebook: true, instagram: false };
