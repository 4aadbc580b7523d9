import type { z } from 'zod';
import type { AccountType, Capabilities } from '@postwire/contracts';

export type AccountKind = z.infer<typeof AccountType>;

/**
 * What an account can publish (reference §2-3): feed everywhere; stories for Pages and Instagram business
 * accounts, never Instagram creator accounts; reels for Pages and both kinds of Instagram account.
 */
export function capabilitiesOf(accountType: AccountKind): z.infer<typeof Capabilities> {
  return { feed: true, stories: accountType !== 'creator', reels: true };
}

/**
 * Meta reports `BUSINESS` or `MEDIA_CREATOR` (older answers: `CREATOR`). An account reached through a Page's
 * `instagram_business_account` is professional by definition, so an absent type reads as business.
 */
export function instagramAccountType(reported: string | undefined): AccountKind {
  const value = reported?.toUpperCase();
  return value === 'MEDIA_CREATOR' || value === 'CREATOR' ? 'creator' : 'business';
}
