import type { z } from 'zod';
import type { ErrorInfo } from '@postwire/contracts';
import { GraphApiError, type GraphErrorClass, GraphNetworkError, GraphResponseError, classifyGraphError } from '@postwire/graph';

export type ConnectionStage = 'token-exchange' | 'discovery' | 'scope-check';
export type FailureInfo = z.infer<typeof ErrorInfo>;

/** Raised while connecting when retrying cannot help; becomes `account.connection-failed`. */
export class ConnectionRefused extends Error {
  readonly stage: ConnectionStage;
  readonly info: FailureInfo;
  readonly missingScopes: readonly string[] | undefined;

  constructor(stage: ConnectionStage, info: FailureInfo, missingScopes?: readonly string[]) {
    super(`${stage}: ${info.message}`);
    this.name = 'ConnectionRefused';
    this.stage = stage;
    this.info = info;
    this.missingScopes = missingScopes;
  }
}

const CATEGORY: Readonly<Record<GraphErrorClass, FailureInfo['category']>> = {
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

/**
 * Decides what a failed Graph call during a connect means: a retryable class (transient, rate limit) is
 * rethrown so the consumer retries with backoff; anything else becomes a refusal with Meta's classification
 * and a message for the user (never Meta's raw message, which may echo request details).
 */
export function refusalOrRethrow(stage: ConnectionStage, error: unknown): ConnectionRefused {
  if (!(error instanceof GraphApiError || error instanceof GraphNetworkError || error instanceof GraphResponseError)) throw error;
  const classification = classifyGraphError(error);
  if (classification.retryable || classification.class === 'ambiguous') throw error;
  const info: FailureInfo = {
    category: CATEGORY[classification.class],
    message: classification.userMessage,
    retryable: false,
    ...(error instanceof GraphApiError && error.code !== undefined ? { code: error.code } : {}),
    ...(error instanceof GraphApiError && error.subcode !== undefined ? { subcode: error.subcode } : {}),
  };
  return new ConnectionRefused(stage, info);
}
