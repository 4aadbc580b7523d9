/**
 * Examples of the shared shapes, as the document's components carry them (the shapes themselves live
 * in @postwire/api). The lint test validates each against its schema (Spectral's oas3-valid-schema-example).
 */
const ORGANISATION = '4f9c2b1e-7d3a-4c5b-9e8f-0a1b2c3d4e5f';
const USER = '7a1d9e3c-2b4f-4e6a-8c0d-1e2f3a4b5c6d';
const ACCOUNT = '2c6f0e4a-9b1d-4f3e-a7c5-6d8e9f0a1b2c';
const POST = '8d3c2a6e-1f4b-4c2d-9e0f-1a2b3c4d5e6f';
const REQUEST_EVENT = '5e8e7f0c-2b7a-4d8e-8c4f-0b8f2a7d9c11';

const post = {
  id: POST,
  organisationId: ORGANISATION,
  socialAccountId: ACCOUNT,
  createdBy: USER,
  platform: 'instagram',
  postType: 'reel',
  facebookFormat: null,
  status: 'queued',
  content: {
    caption: 'Launch day: the spring collection is here',
    hashtags: ['launchday', 'spring'],
    media: [{ position: 0, mediaType: 'video', url: 'https://cdn.example.com/launch.mp4', coverUrl: 'https://cdn.example.com/launch.jpg' }],
    contentId: null,
    locationId: null,
    link: null,
    shareToFeed: true,
    trialParams: null,
    firstComment: 'Shop the collection: link in bio',
    collaborators: [],
  },
  scheduledFor: '2026-03-08T14:00:00.000Z',
  publishedAt: null,
  platformPostId: null,
  platformUrl: null,
  errorMessage: null,
  retryCount: 0,
  maxRetries: 3,
  metrics: { likes: 0, comments: 0, shares: 0, saves: 0, reach: 0, impressions: 0, plays: 0, engagementRate: null, available: false, lastSyncedAt: null },
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
};

const account = {
  id: ACCOUNT,
  platform: 'instagram',
  accountType: 'business',
  platformAccountId: '17841400008460056',
  username: 'postwire.studio',
  profilePictureUrl: 'https://cdn.example.com/avatar.jpg',
  pageId: '102030405060708',
  pageName: 'Postwire Studio',
  status: 'active',
  errorMessage: null,
  capabilities: { feed: true, stories: true, reels: true },
  tokenExpiresAt: '2026-05-01T10:00:00.000Z',
  connectedAt: '2026-03-01T10:00:00.000Z',
  lastSyncedAt: '2026-03-02T10:00:00.000Z',
  lastTokenRefresh: null,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:00.000Z',
};

export const COMPONENT_EXAMPLES: Readonly<Record<string, readonly unknown[]>> = {
  Post: [post],
  PostList: [{ data: [post], nextCursor: 'MjAyNi0wMy0wOFQxNDowMDowMC4wMDBa' }],
  PostSummary: [{ id: POST, socialAccountId: ACCOUNT, status: 'queued', platform: 'instagram', postType: 'reel', scheduledFor: '2026-03-08T14:00:00.000Z' }],
  PendingPostRequest: [{ status: 'pending', postId: POST, requestEventId: REQUEST_EVENT, location: `/v1/posts/${POST}` }],
  AccountRetryResult: [{ socialAccountId: ACCOUNT, status: 'applied', requestEventId: REQUEST_EVENT, retried: [{ postId: POST, status: 'queued' }], refused: [] }],
  Account: [account],
  AccountList: [{ data: [account] }],
  AccountCapabilities: [{ accountId: ACCOUNT, canPostFeed: true, canPostStories: true, canPostReels: true, isActive: true }],
  ExpiringAccounts: [{ data: [{ id: ACCOUNT, platform: 'instagram', username: 'postwire.studio', tokenExpiresAt: '2026-03-10T10:00:00.000Z', daysUntilExpiry: 2 }] }],
  UnpostedContent: [
    {
      data: [{ id: '6b8d0f2a-4c6e-4a8b-9d1f-3e5a7c9b0d2f', prompt: 'a cat surfing at sunset', videoUrl: 'https://cdn.example.com/cat.mp4', thumbnailUrl: 'https://cdn.example.com/cat.jpg', mode: 'standard', status: 'completed', createdAt: '2026-03-01T10:00:00.000Z' }],
      nextCursor: null,
    },
  ],
  UpdatePostInput: [{ scheduledFor: '2026-03-08T10:30:00+05:30' }],
  SnapshotSeries: [
    {
      postId: POST,
      socialAccountId: ACCOUNT,
      platform: 'instagram',
      postType: 'reel',
      publishedAt: '2026-03-08T14:00:05.000Z',
      syncsStoppedReason: null,
      refreshAvailableAt: null,
      data: [
        { id: '1f3e5a7c-9b0d-4e2f-8a6c-4b8d0f2a6c8e', postId: POST, likes: 120, comments: 14, shares: 6, saves: 20, reach: 2100, impressions: 3050, plays: 2900, engagementRate: 7.62, snapshotAt: '2026-03-08T15:00:10.000Z', hoursSincePublished: 1 },
      ],
    },
  ],
  AnalyticsSummary: [
    {
      from: '2026-02-06T00:00:00.000Z',
      to: '2026-03-08T00:00:00.000Z',
      previousFrom: '2026-01-07T00:00:00.000Z',
      groups: [{ platform: 'instagram', postType: 'reel', current: { posts: 12, likes: 840, comments: 96, shares: 40, saves: 120, reach: 15200, impressions: 21000, plays: 9800, averageEngagementRate: 7.2 }, previous: { posts: 10, likes: 700, comments: 80, shares: 30, saves: 90, reach: 12000, impressions: 17500, plays: 7600, averageEngagementRate: 7.5 }, change: { reach: 26.7, impressions: 20, engagement: 22.5 } }],
    },
  ],
  TopPosts: [
    {
      data: [{ id: POST, platform: 'instagram', postType: 'reel', caption: 'Launch day: the spring collection is here', publishedAt: '2026-03-08T14:00:05.000Z', likes: 120, comments: 14, shares: 6, reach: 2100, impressions: 3050, engagementRate: 7.62, username: 'postwire.studio' }],
    },
  ],
};
