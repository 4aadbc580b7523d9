/**
 * The organisation a user belongs to, from the host product's `users` table; null for a user it does
 * not know. A token's organisation claim is trusted only when it names this organisation.
 */
export type OrganisationOf = (userId: string) => Promise<string | null>;

export type MembershipCacheOptions = {
  /** How long a user's organisation is remembered (DESIGN.md: "cached briefly"). */
  readonly ttlMs?: number;
  /** At most this many users are remembered; the oldest entry goes first. */
  readonly maxEntries?: number;
  readonly now?: () => number;
};

/**
 * Remembers members for a short while, so an authenticated request costs a query only now and then.
 * Unknown users are not remembered: a row the host adds is seen at once, and every miss needs a
 * validly signed token anyway.
 */
export function cachedOrganisationOf(lookup: OrganisationOf, options: MembershipCacheOptions = {}): OrganisationOf {
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { readonly organisationId: string; readonly expiresAt: number }>();
  return async (userId) => {
    const cached = entries.get(userId);
    if (cached && cached.expiresAt > now()) return cached.organisationId;
    entries.delete(userId);
    const organisationId = await lookup(userId);
    if (organisationId === null) return null;
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
    entries.set(userId, { organisationId, expiresAt: now() + ttlMs });
    return organisationId;
  };
}
