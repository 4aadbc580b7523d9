import {
  createPool,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
  SchemaValidationError,
} from 'slonik';

/**
 * Slonik hands the `sql.type(schema)` schema to interceptors but does not check rows by itself:
 * this interceptor is what makes every typed query fail loudly when a row does not fit.
 */
export const resultParserInterceptor: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = await parser['~standard'].validate(row);
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as QueryResultRow;
  },
};

export type DatabasePoolOptions = {
  readonly maximumPoolSize?: number;
  /** Connections kept open while idle (and opened at start), so a burst of requests does not wait for new ones. */
  readonly minimumPoolSize?: number;
  readonly statementTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly applicationName?: string;
  /**
   * Whether a connection runs `DISCARD ALL` each time it goes back to the pool (slonik's default: a round trip per
   * query or transaction). Only a pool whose connections keep no session state may turn it off: reads whose claims
   * are set for their own transaction (`setCallerClaims`, which `auth.uid()` believes only there), no session
   * locks, LISTEN, prepared statements or session settings.
   */
  readonly resetOnRelease?: boolean;
};

export async function createDatabasePool(
  connectionUri: string,
  options: DatabasePoolOptions = {},
): Promise<DatabasePool> {
  const uri = new URL(connectionUri);
  if (options.applicationName) uri.searchParams.set('application_name', options.applicationName);
  return createPool(uri.toString(), {
    interceptors: [resultParserInterceptor],
    maximumPoolSize: options.maximumPoolSize ?? 10,
    minPoolSize: options.minimumPoolSize ?? 0,
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    idleTimeout: options.idleTimeoutMs ?? 10_000,
    // slonik drops an undefined option and keeps its DISCARD ALL: a reset that does nothing turns it off.
    ...(options.resetOnRelease === false ? { resetConnection: async () => {} } : {}),
  });
}
