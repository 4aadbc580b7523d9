export {
  AccountCapabilities,
  AccountIdParams,
  AccountList,
  AccountListQuery,
  AccountResource,
  ExpiringAccounts,
  ExpiringAccountsQuery,
} from './accounts.ts';
