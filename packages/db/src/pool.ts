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
  readonly statementTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly applicationName?: string;
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
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    idleTimeout: options.idleTimeoutMs ?? 10_000,
  });
}
