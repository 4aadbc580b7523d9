import { createHash } from 'node:crypto';

/**
 * The id of the row for (organisation, platform, platform account id), shaped as an RFC 9562 version 8
 * UUID. The gateway derives a new login's id the same way, so an Instagram Login event's key is already
 * the id of the account it connects. Deterministic ids also let two racing connects of one account encrypt
 * the token for the same row id before either has inserted it (the ciphertext is bound to the row id).
 */
export function derivedAccountId(organisationId: string, platform: string, platformAccountId: string): string {
  const bytes = createHash('sha256').update(`postwire:social-account:${organisationId}:${platform}:${platformAccountId}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
