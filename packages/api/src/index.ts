export {
  AccountCapabilities,
  AccountIdParams,
  AccountList,
  AccountListQuery,
  AccountResource,
  ExpiringAccounts,
  ExpiringAccountsQuery,
} from './accounts.ts';
export { PostIdParams, PostList, PostListQuery, PostResource, UnpostedContent, UnpostedContentQuery } from './posts.ts';
export { type InstantRefusal, type ParsedInstant, instantRefusalMessage, offsetInstant, parseOffsetInstant } from './instant.ts';
export {
  AcceptedPostSummary,
  AccountIdPathParams,
  AccountRetryResult,
  CancelPostBody,
  CreatePostBody,
  DeletePostQuery,
  PendingPostRequest,
  UpdatePostBody,
} from './post-requests.ts';
export { AnalyticsSummary, SnapshotResource, SnapshotSeries, SummaryQuery, TopPosts, TopPostsQuery } from './analytics.ts';
