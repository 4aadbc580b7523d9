import type { ErrorInfo } from '@postwire/contracts';
import type { z } from 'zod';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export type ExpiredReason = 'token-expired' | 'token-invalidated' | 'password-changed' | 'permissions-revoked';
export type FailureInfo = z.infer<typeof ErrorInfo>;

/**
 * The threshold (in days) a token has crossed: the smallest configured one it expires within. A token found
 * 2 days before expiry is announced at 3 days only, not at 7 and 3 in one go.
 */
export function crossedThreshold(expiresAt: Date, now: Date, thresholdsDays: readonly number[]): number | undefined {
  const left = expiresAt.getTime() - now.getTime();
  const crossed = thresholdsDays.filter((days) => left < days * DAY_MS);
  return crossed.length === 0 ? undefined : Math.min(...crossed);
}

export function expiresInSeconds(expiresAt: Date, now: Date): number {
  return Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
}

/**
 * Instagram Login tokens are the only ones Meta lets us extend (`ig_refresh_token`). The accounts table does
 * not record which login a row came from, so the token says it: Instagram Login tokens start with `IG`
 * (Facebook user and Page tokens with `EA`), as Meta and the sandbox issue them.
 */
export function isInstagramLoginToken(token: string): boolean {
  return token.startsWith('IG');
}

/** Meta refuses `ig_refresh_token` on a token younger than 24 hours. */
export const MIN_REFRESH_AGE_HOURS = 24;

export function refreshDue(lastRefreshAt: Date, now: Date, refreshAgeHours: number): boolean {
  return now.getTime() - lastRefreshAt.getTime() >= Math.max(refreshAgeHours, MIN_REFRESH_AGE_HOURS) * HOUR_MS;
}

/** 190's subcode says why the token died (reference §5). */
export function expiredReason(subcode: number | undefined): ExpiredReason {
  switch (subcode) {
    case 460:
      return 'password-changed';
    case 458:
      return 'permissions-revoked';
    case 463:
      return 'token-expired';
    default:
      return 'token-invalidated';
  }
}

const REASON_MESSAGE: Readonly<Record<ExpiredReason, string>> = {
  'password-changed': 'the password of the account was changed (or Meta ended the session for security reasons).',
  'permissions-revoked': 'Postwire was removed from the account or its permissions were revoked.',
  'token-expired': 'the access to this account has expired.',
  'token-invalidated': 'Meta no longer accepts the access to this account.',
};

/** What the user reads on an expired account. */
export function reconnectMessage(reason: ExpiredReason): string {
  return `Reconnect: ${REASON_MESSAGE[reason]}`;
}
