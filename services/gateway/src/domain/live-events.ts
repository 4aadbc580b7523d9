import { accountEvents, postEvents } from '@postwire/contracts';

/** What API consumers can follow (SSE and webhooks): the organisation's post and account facts. */
export const LIVE_EVENT_TYPES: readonly string[] = [...postEvents.events, ...accountEvents.events].map((event) => event.type);

/** At most this many entries in a `types=` filter or an endpoint's event types. */
export const MAX_TYPE_FILTERS = 50;

export type TypeFilter = { readonly exact: ReadonlySet<string>; readonly prefixes: readonly string[] };

export type TypeFilterResult =
  | { readonly ok: true; readonly filter: TypeFilter | null }
  | { readonly ok: false; readonly unknown: readonly string[] };

/**
 * Reads the event types a consumer asks for: exact names (`post.published`) and prefix wildcards
 * (`post.*`), each known or matching at least one known type. Nothing asked (absent, empty): every type,
 * shown as a null filter.
 */
export function parseTypeFilter(entries: readonly string[]): TypeFilterResult {
  const wanted = entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (wanted.length === 0) return { ok: true, filter: null };
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const unknown: string[] = [];
  for (const entry of wanted) {
    if (entry.endsWith('.*')) {
      const prefix = entry.slice(0, -1);
      if (LIVE_EVENT_TYPES.some((type) => type.startsWith(prefix))) prefixes.push(prefix);
      else unknown.push(entry);
    } else if (LIVE_EVENT_TYPES.includes(entry)) {
      exact.add(entry);
    } else {
      unknown.push(entry);
    }
  }
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, filter: { exact, prefixes } };
}

/** Splits `types=a,b&types=c` into its entries. */
export function typeFilterEntries(raw: string | readonly string[] | undefined): string[] {
  if (raw === undefined) return [];
  return (typeof raw === 'string' ? [raw] : raw).flatMap((value) => value.split(','));
}

/** One spelling of a filter's entries (trimmed, each once, sorted, comma-joined) to compare two filters by; null for none. */
export function canonicalTypes(entries: readonly string[]): string | null {
  const wanted = [...new Set(entries.map((entry) => entry.trim()).filter((entry) => entry !== ''))].sort();
  return wanted.length === 0 ? null : wanted.join(',');
}

export function matchesFilter(filter: TypeFilter | null, type: string): boolean {
  if (filter === null) return true;
  return filter.exact.has(type) || filter.prefixes.some((prefix) => type.startsWith(prefix));
}

/**
 * Fields that carry a secret, by name: account events carry the account's (encrypted) access token,
 * which an API consumer never sees, encrypted or not.
 */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['accessToken', 'refreshToken', 'token', 'secret', 'appSecret']);
/** Postwire ciphertexts (`enc:v1:<key>:...`), whatever field they hide in. */
const CIPHERTEXT = /^enc:v\d+:/;

/** An event's data as an API consumer sees it: every secret field, and anything encrypted, left out. */
export function publicPayload(data: unknown): unknown {
  if (Array.isArray(data)) return data.filter((item) => !(typeof item === 'string' && CIPHERTEXT.test(item))).map(publicPayload);
  if (data === null || typeof data !== 'object') return data;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (SECRET_FIELDS.has(key)) continue;
    if (typeof value === 'string' && CIPHERTEXT.test(value)) continue;
    kept[key] = publicPayload(value);
  }
  return kept;
}

/**
 * One Server-Sent Events message. `data` is JSON, so it has no line breaks; id and type come from
 * validated CloudEvents, whose ids and types have none either.
 */
export function formatSseMessage(message: { readonly id: string; readonly type: string; readonly data: unknown }): string {
  return `id: ${message.id}\nevent: ${message.type}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/** A comment line: ignored by EventSource clients, keeps proxies and load balancers from closing the stream. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/**
 * When a stream must end, so a caller is authorised again at least that often (and a removed member stops
 * hearing): its longest life, or sooner when the bearer token it opened with expires.
 */
export function streamDeadline(openedAt: number, maxStreamMs: number, tokenExpiresAt: number | undefined): number {
  const longest = openedAt + maxStreamMs;
  return tokenExpiresAt === undefined ? longest : Math.min(longest, tokenExpiresAt);
}

/** A verified JWT's `exp` in epoch milliseconds; undefined when it has none (or is not a JWT). */
export function bearerExpiry(token: string): number | undefined {
  let exp: unknown;
  try {
    ({ exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown });
  } catch {
    return undefined;
  }
  // Not a number, or not a finite one (1e999 reads as Infinity): no expiry to go by.
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
