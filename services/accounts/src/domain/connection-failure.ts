import type { z } from 'zod';
import type { ErrorInfo } from '@postwire/contracts';
import { classifyGraphError, isGraphError, toErrorInfo } from '@postwire/graph';

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

/** A failure worth retrying (Meta unavailable, rate limited), marked with the stage it happened at. */
export class ConnectionStageError extends Error {
  readonly stage: ConnectionStage;

  constructor(stage: ConnectionStage, cause: unknown) {
    super(`${stage}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ConnectionStageError';
    this.stage = stage;
  }
}

/**
 * Decides what a failed Graph call during a connect means: a retryable class (transient, rate limit) is
 * rethrown so the consumer retries with backoff; anything else becomes a refusal with Meta's classification
 * and a message for the user.
 */
export function refusalOrRethrow(stage: ConnectionStage, error: unknown): ConnectionRefused {
  if (!isGraphError(error)) throw error;
  const info = toErrorInfo(error);
  if (info.retryable || classifyGraphError(error).class === 'ambiguous') throw new ConnectionStageError(stage, error);
  return new ConnectionRefused(stage, { ...info, retryable: false });
}

/**
 * What the requester is told when connecting was given up (the request was dead-lettered): what went wrong
 * and at which stage, in words a person can act on.
 */
export function givenUp(error: unknown): { readonly stage: ConnectionStage; readonly info: FailureInfo } {
  const stage = error instanceof ConnectionStageError ? error.stage : 'discovery';
  const cause = error instanceof ConnectionStageError ? error.cause : error;
  if (isGraphError(cause)) {
    const info = toErrorInfo(cause);
    return { stage, info: { ...info, message: `${info.message} Postwire stopped trying to connect; start the connection again.`, retryable: false } };
  }
  return {
    stage,
    info: { category: 'unknown', message: 'Postwire could not complete this connection. Start the connection again; if it fails again, contact support.', retryable: false },
  };
}
