import type { Provider } from './connect-session.ts';

/**
 * Where a connect flow started by a web app sends the browser back: `returnTo`, an absolute URL on one
 * of the configured web origins (GATEWAY_WEB_ORIGINS), checked at the start and sealed into the flow's
 * cookie, never read from the callback's query. Anything else is refused, so the gateway is never an
 * open redirect.
 */
export const RETURN_TO_MAX_LENGTH = 1024;

export type ReturnToCheck =
  | { readonly ok: true; readonly url: string }
  | { readonly ok: false; readonly reason: 'too-long' | 'not-absolute' | 'not-http' | 'credentials' | 'origin-not-allowed' };

export function checkReturnTo(value: string, allowedOrigins: readonly string[]): ReturnToCheck {
  if (value.length > RETURN_TO_MAX_LENGTH) return { ok: false, reason: 'too-long' };
  if (!URL.canParse(value)) return { ok: false, reason: 'not-absolute' };
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'not-http' };
  // https://app.example@evil.example/ has the origin of evil.example; one with credentials in it is refused outright.
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials' };
  if (!allowedOrigins.includes(url.origin)) return { ok: false, reason: 'origin-not-allowed' };
  return { ok: true, url: url.href };
}

/** Says why a returnTo was refused, for the problem's detail. */
export function returnToRefusal(reason: Exclude<ReturnToCheck, { ok: true }>['reason']): string {
  switch (reason) {
    case 'too-long':
      return `returnTo is longer than ${RETURN_TO_MAX_LENGTH} characters.`;
    case 'not-absolute':
      return 'returnTo must be an absolute URL (https://app.example/settings).';
    case 'not-http':
      return 'returnTo must be an http or https URL.';
    case 'credentials':
      return 'returnTo must not carry a user name or password.';
    case 'origin-not-allowed':
      return "returnTo's origin is not one of the web apps this gateway returns to (GATEWAY_WEB_ORIGINS).";
  }
}

/**
 * The query parameters a web app reads on returnTo after a connect, all prefixed so they never collide
 * with the app's own:
 * - `postwire_connect`: `connected` (at least one account connected) or `failed` (none);
 * - `postwire_provider`: `facebook` or `instagram`;
 * - `postwire_accounts`: the connected accounts' ids, comma-separated (with `connected`);
 * - `postwire_code`: the problem code when something failed (`consent-declined`, `permission-missing`,
 *   `connect-failed`, `connect-timeout`, `meta-exchange-failed`, `forbidden`); with `connected` it says
 *   why some of the chosen accounts were not connected.
 */
export const OUTCOME_PARAMETERS = {
  outcome: 'postwire_connect',
  provider: 'postwire_provider',
  accounts: 'postwire_accounts',
  code: 'postwire_code',
} as const;

export type AppOutcome = {
  readonly outcome: 'connected' | 'failed';
  readonly provider: Provider;
  readonly accountIds: readonly string[];
  readonly code?: string;
};

/** returnTo with the outcome in its query: the app's own parameters and fragment kept, any earlier outcome replaced. */
export function returnToWithOutcome(returnTo: string, outcome: AppOutcome): string {
  const url = new URL(returnTo);
  for (const name of Object.values(OUTCOME_PARAMETERS)) url.searchParams.delete(name);
  url.searchParams.set(OUTCOME_PARAMETERS.outcome, outcome.outcome);
  url.searchParams.set(OUTCOME_PARAMETERS.provider, outcome.provider);
  if (outcome.accountIds.length > 0) url.searchParams.set(OUTCOME_PARAMETERS.accounts, outcome.accountIds.join(','));
  if (outcome.code) url.searchParams.set(OUTCOME_PARAMETERS.code, outcome.code);
  return url.href;
}
