import type { EventOfType } from '@postwire/contracts';
import type { accountRequests } from '@postwire/contracts';
import type { GraphClient } from '@postwire/graph';
import { type AccountKind, capabilitiesOf, instagramAccountType } from '../domain/capabilities.ts';
import { ConnectionRefused, type ConnectionStage, refusalOrRethrow } from '../domain/connection-failure.ts';
import { missingScopes, missingScopesMessage } from '../domain/scopes.ts';

type Authorized = EventOfType<typeof accountRequests, 'account.authorized'>['data'];

/** One account a login gives access to, with its plaintext long-lived token (held in memory only). */
export type DiscoveredAccount = {
  readonly platform: 'facebook' | 'instagram';
  readonly accountType: AccountKind;
  readonly platformAccountId: string;
  readonly username: string | null;
  readonly profilePictureUrl: string | null;
  readonly pageId: string | null;
  readonly pageName: string | null;
  readonly accessToken: string;
  readonly tokenExpiresAt: Date | null;
  readonly capabilities: { readonly feed: boolean; readonly stories: boolean; readonly reels: boolean };
  /** Instagram only: Meta's publishing quota as read at connect time (the publisher re-reads it; never hard-coded). */
  readonly publishingLimit?: PublishingLimitSnapshot;
};

export type PublishingLimitSnapshot = { readonly quotaTotal: number; readonly quotaUsage: number; readonly windowSeconds: number; readonly checkedAt: string };

export type Discovery =
  | { readonly outcome: 'connected'; readonly accounts: readonly DiscoveredAccount[] }
  | { readonly outcome: 'refused'; readonly refusal: ConnectionRefused };

const SIXTY_DAYS_SECONDS = 60 * 24 * 3600;

async function step<T>(stage: ConnectionStage, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw refusalOrRethrow(stage, error);
  }
}

function httpUrl(value: string | undefined): string | null {
  if (value === undefined || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

function trimmed(value: string | undefined, max: number): string | null {
  return value === undefined ? null : value.slice(0, max);
}

/**
 * Everything a connect needs from Meta, done before any transaction opens (a transaction never waits on
 * Meta). Transient and rate-limit failures are thrown so the consumer retries the event with backoff;
 * other failures and missing scopes come back as a refusal that becomes `account.connection-failed`.
 */
export async function discoverAccounts(graph: GraphClient, data: Authorized, shortLivedToken: string, now: Date): Promise<Discovery> {
  try {
    const accounts = data.platform === 'facebook' ? await viaFacebookLogin(graph, shortLivedToken, now) : await viaInstagramLogin(graph, data, shortLivedToken, now);
    return { outcome: 'connected', accounts };
  } catch (error) {
    if (error instanceof ConnectionRefused) return { outcome: 'refused', refusal: error };
    throw error;
  }
}

/**
 * Best effort: the quota is an optional part of `account.connected`, so a failure to read it (of any kind)
 * leaves it out rather than holding up or failing the connect.
 */
async function publishingLimit(graph: GraphClient, igId: string, token: string, now: Date): Promise<{ publishingLimit?: PublishingLimitSnapshot }> {
  try {
    const limit = await graph.contentPublishingLimit(igId, token);
    if (limit.quotaTotal === undefined) return {};
    return {
      publishingLimit: {
        quotaTotal: limit.quotaTotal,
        quotaUsage: limit.quotaUsage,
        windowSeconds: limit.quotaDurationSeconds ?? 86_400,
        checkedAt: now.toISOString(),
      },
    };
  } catch {
    return {};
  }
}

function refuseMissing(missing: readonly string[]): ConnectionRefused {
  return new ConnectionRefused('scope-check', { category: 'permission', message: missingScopesMessage(missing), retryable: false }, missing);
}

async function viaFacebookLogin(graph: GraphClient, shortLivedToken: string, now: Date): Promise<DiscoveredAccount[]> {
  const user = await step('token-exchange', () => graph.exchangeForLongLivedUserToken(shortLivedToken));
  // What Meta says was granted, not what the event claims.
  const permissions = await step('scope-check', () => graph.permissions(user.accessToken));
  const missing = missingScopes('facebook', permissions.granted);
  if (missing.length > 0) throw refuseMissing(missing);

  const pages = await step('discovery', () => graph.listPages(user.accessToken));
  if (pages.length === 0) {
    throw new ConnectionRefused('discovery', {
      category: 'permission',
      message: 'No Facebook Page was shared with Postwire. Connect again and choose the Pages (and their Instagram accounts) to publish to.',
      retryable: false,
    });
  }
  const accounts: DiscoveredAccount[] = [];
  for (const page of pages) {
    // A Page token obtained with a long-lived user token does not expire (reference §1).
    accounts.push({
      platform: 'facebook',
      accountType: 'page',
      platformAccountId: page.id,
      username: trimmed(page.name, 100),
      profilePictureUrl: null,
      pageId: page.id,
      pageName: trimmed(page.name, 200),
      accessToken: page.accessToken,
      tokenExpiresAt: null,
      capabilities: capabilitiesOf('page'),
    });
    const linked = await step('discovery', () => graph.pageInstagramAccount(page.id, page.accessToken));
    if (linked === undefined) continue;
    const profile = await step('discovery', () => graph.instagramProfile(linked.id, page.accessToken));
    const accountType = instagramAccountType(profile.accountType);
    // [conflict] in the reference: Page token or user token for IG publishing. We store the Page token: it
    // never expires (the user token dies after 60 days) and it is what Meta's publishing guide uses.
    accounts.push({
      platform: 'instagram',
      accountType,
      platformAccountId: profile.id,
      username: trimmed(profile.username, 100),
      profilePictureUrl: httpUrl(profile.profilePictureUrl),
      pageId: page.id,
      pageName: trimmed(page.name, 200),
      accessToken: page.accessToken,
      tokenExpiresAt: null,
      capabilities: capabilitiesOf(accountType),
      ...(await publishingLimit(graph, profile.id, page.accessToken, now)),
    });
  }
  return accounts;
}

async function viaInstagramLogin(graph: GraphClient, data: Authorized, shortLivedToken: string, now: Date): Promise<DiscoveredAccount[]> {
  // Instagram Login has no /me/permissions: the scopes are those the code exchange reported (in the event).
  const missing = missingScopes('instagram', data.grantedScopes);
  if (missing.length > 0) throw refuseMissing(missing);
  const grant = await step('token-exchange', () => graph.exchangeForLongLivedInstagramToken(shortLivedToken));
  const me = await step('discovery', () => graph.instagramMe(grant.accessToken));
  const accountType = instagramAccountType(me.accountType);
  return [
    {
      platform: 'instagram',
      accountType,
      platformAccountId: me.userId,
      username: trimmed(me.username, 100),
      profilePictureUrl: httpUrl(me.profilePictureUrl),
      pageId: null,
      pageName: null,
      accessToken: grant.accessToken,
      tokenExpiresAt: new Date(now.getTime() + (grant.expiresIn ?? SIXTY_DAYS_SECONDS) * 1000),
      capabilities: capabilitiesOf(accountType),
      ...(await publishingLimit(graph, me.userId, grant.accessToken, now)),
    },
  ];
}
