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
