import { createHash } from 'node:crypto';

/**
 * The id of the account a new login connects: the same organisation, platform and Meta user always
 * give the same id, so a retried or repeated connect lands on the same key (and partition) and the
 * accounts service updates instead of duplicating. Shaped as an RFC 9562 version 8 UUID.
 */
export function derivedAccountId(organisationId: string, platform: string, platformUserId: string): string {
  const bytes = createHash('sha256').update(`postwire:social-account:${organisationId}:${platform}:${platformUserId}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
