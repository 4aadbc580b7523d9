import { type GraphErrorClass, classifyGraphError } from './classify.ts';
import { GraphApiError, GraphNetworkError, GraphResponseError } from './errors.ts';

/** Any error a Graph call raises: Meta answered with an error, the request did not complete, or the answer was unreadable. */
export function isGraphError(error: unknown): error is GraphApiError | GraphNetworkError | GraphResponseError {
  return error instanceof GraphApiError || error instanceof GraphNetworkError || error instanceof GraphResponseError;
}

/** The categories of the contracts' `ErrorInfo` (kept equal to them; contracts are not a dependency of this package). */
export type ErrorInfoCategory = 'transient' | 'rate-limited' | 'token' | 'permission' | 'invalid-request' | 'bad-media' | 'quota-exceeded' | 'unknown';

/** What every Meta caller records or reports about a failed call: category, codes, and a sentence a person can act on. */
export type GraphErrorInfo = {
  readonly category: ErrorInfoCategory;
  readonly message: string;
  readonly retryable: boolean;
  readonly code?: number;
  readonly subcode?: number;
  readonly retryAfterSeconds?: number;
};

const CATEGORY: Readonly<Record<GraphErrorClass, ErrorInfoCategory>> = {
  transient: 'transient',
  ambiguous: 'transient',
  'rate-limited': 'rate-limited',
  'media-not-ready': 'transient',
  'container-missing': 'transient',
  'container-expired': 'invalid-request',
  'publish-quota': 'quota-exceeded',
  'token-invalid': 'token',
  'account-action-required': 'token',
  'permission-missing': 'permission',
  'page-role-lost': 'permission',
  'invalid-parameter': 'invalid-request',
  'bad-media': 'bad-media',
  'account-restricted': 'permission',
  'policy-block': 'rate-limited',
  duplicate: 'invalid-request',
  unknown: 'unknown',
};

export function errorCategory(kind: GraphErrorClass): ErrorInfoCategory {
  return CATEGORY[kind];
}

/**
 * One mapping from a failed Graph call to what is recorded and shown: Meta's classification, its codes, and
 * the classification's message for the user (never Meta's raw message, which may echo request details).
 */
export function toErrorInfo(error: GraphApiError | GraphNetworkError | GraphResponseError): GraphErrorInfo {
  const classification = classifyGraphError(error);
  return {
    category: CATEGORY[classification.class],
    message: classification.userMessage,
    retryable: classification.retryable,
    ...(error instanceof GraphApiError && error.code !== undefined ? { code: error.code } : {}),
    ...(error instanceof GraphApiError && error.subcode !== undefined ? { subcode: error.subcode } : {}),
    ...(classification.retryAfterMs === undefined ? {} : { retryAfterSeconds: Math.ceil(classification.retryAfterMs / 1000) }),
  };
}
