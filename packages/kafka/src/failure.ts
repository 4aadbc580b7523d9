import type { DecodeFailureReason } from '@postwire/contracts';

/**
 * Thrown by a handler when retrying cannot help (the event contradicts the state, a referenced row
 * will never exist...): the message goes straight to the dead-letter topic.
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

export type DeadLetterReason = DecodeFailureReason | 'handler-rejected' | 'handler-failed';

export type FailureDecision =
  | { readonly action: 'retry'; readonly attempt: number }
  | { readonly action: 'dead-letter'; readonly reason: DeadLetterReason };

/** What to do after the handler failed on its `attempt`-th try. */
export function decideAfterFailure(error: unknown, attempt: number, maxAttempts: number): FailureDecision {
  if (error instanceof NonRetryableError) return { action: 'dead-letter', reason: 'handler-rejected' };
  if (attempt >= maxAttempts) return { action: 'dead-letter', reason: 'handler-failed' };
  return { action: 'retry', attempt: attempt + 1 };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
  return String(error).slice(0, 2000);
}
