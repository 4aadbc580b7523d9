import { createHash } from 'node:crypto';

/**
 * The social account id for (organisation, platform, Meta id), shaped as an RFC 9562 version 8 UUID.
 * The gateway keys a new login's `account.authorized` with it and the accounts service names the rows
 * it connects with it, so both sides must compute it the same way: this is the one place they do.
 * Deterministic ids make a repeated connect land on the same key (and partition) and the same row,
 * and let two racing connects encrypt a token for the row id before either has inserted it.
 */
export function derivedAccountId(organisationId: string, platform: string, platformId: string): string {
  const bytes = createHash('sha256').update(`postwire:social-account:${organisationId}:${platform}:${platformId}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
