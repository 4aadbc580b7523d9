export { sql } from 'slonik';
export type {
  CommonQueryMethods,
  DatabaseConnection,
  DatabasePool,
  DatabaseTransactionConnection,
} from 'slonik';
export { createDatabasePool, resultParserInterceptor, type DatabasePoolOptions } from './pool.ts';
export {
  DATA_SERVICES,
  GATEWAY_ROLE,
  HOST_OWNER_ROLE,
  connectionUrlForRole,
  isDataService,
  serviceRoles,
  type DataService,
  type ServiceRoles,
} from './roles.ts';
export { setCallerClaims, withCallerClaims, type CallerClaims } from './claims.ts';
export { migrateService, type MigrateOptions, type MigrationRun, type MigrationTarget } from './migrations.ts';
export { databaseName, prepareDatabase, type PrepareReport } from './prepare.ts';
export { migrateAll, migrationsDirectory } from './migrate-all.ts';
export { serviceConnectionUrls, type ServiceConnectionUrls } from './connection-urls.ts';
export { createOrganisationLookup } from './membership.ts';
export { DEMO_IDENTITY, seedDemoIdentity } from './demo.ts';
