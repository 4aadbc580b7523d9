import { randomToken } from '../domain/ids.ts';
import {
  LIFETIMES,
  TOKEN_PREFIX,
  type InvalidationReason,
  type TokenKind,
  type TokenRecord,
} from '../domain/tokens.ts';
import type { Store } from './store.ts';

export type IssueTokenInput = {
  readonly kind: Exclude<TokenKind, 'facebook-page'>;
  readonly appId: string;
  readonly subjectId: string;
  readonly scopes: readonly string[];
  readonly declinedScopes?: readonly string[];
  readonly targetIds?: readonly string[];
  readonly longLived: boolean;
  /** Data access keeps its own clock: a long-lived exchange carries it over, a new login restarts it. */
  readonly dataAccessExpiresAt?: number;
};

export function issueUserToken(store: Store, now: number, input: IssueTokenInput): TokenRecord {
  const shortLivedMs = input.kind === 'instagram-user' ? LIFETIMES.instagramShortLivedMs : LIFETIMES.facebookShortLivedMs;
  const token: TokenRecord = {
    value: TOKEN_PREFIX[input.kind] + randomToken(36),
    kind: input.kind,
    appId: input.appId,
    subjectId: input.subjectId,
    scopes: [...input.scopes],
    declinedScopes: [...(input.declinedScopes ?? [])],
    targetIds: [...(input.targetIds ?? [])],
    issuedAt: now,
    expiresAt: now + (input.longLived ? LIFETIMES.longLivedMs : shortLivedMs),
    dataAccessExpiresAt: input.dataAccessExpiresAt ?? now + LIFETIMES.dataAccessMs,
    longLived: input.longLived,
  };
  store.tokens.set(token.value, token);
  return token;
}

/**
 * The Page token handed out by /me/accounts. From a long-lived user token it never expires (expires_at 0);
 * from a short-lived one it ends with the user token. The same user token yields the same Page token.
 */
export function pageTokenFor(store: Store, now: number, userToken: TokenRecord, pageId: string): TokenRecord {
  const key = `${userToken.value}:${pageId}`;
  const existing = store.pageTokens.get(key);
  const found = existing === undefined ? undefined : store.tokens.get(existing);
  if (found) return found;
  const token: TokenRecord = {
    value: TOKEN_PREFIX['facebook-page'] + randomToken(36),
    kind: 'facebook-page',
    appId: userToken.appId,
    subjectId: userToken.subjectId,
    pageId,
    scopes: userToken.scopes,
    declinedScopes: userToken.declinedScopes,
    targetIds: userToken.targetIds,
    issuedAt: now,
    expiresAt: userToken.longLived ? 0 : userToken.expiresAt,
    dataAccessExpiresAt: userToken.dataAccessExpiresAt,
    longLived: userToken.longLived,
  };
  store.tokens.set(token.value, token);
  store.pageTokens.set(key, token.value);
  return token;
}

export type InvalidationFilter = {
  readonly token?: string | undefined;
  /** A Facebook test user or an Instagram account: every token acting for it. */
  readonly subjectId?: string | undefined;
  readonly appId?: string | undefined;
  readonly pageId?: string | undefined;
};

export function invalidateTokens(store: Store, now: number, filter: InvalidationFilter, reason: InvalidationReason): number {
  let count = 0;
  for (const token of store.tokens.values()) {
    if (filter.token !== undefined && token.value !== filter.token) continue;
    if (filter.subjectId !== undefined && token.subjectId !== filter.subjectId) continue;
    if (filter.appId !== undefined && token.appId !== filter.appId) continue;
    if (filter.pageId !== undefined && token.pageId !== filter.pageId) continue;
    if (token.invalidated) continue;
    token.invalidated = { reason, at: now };
    count += 1;
  }
  return count;
}
