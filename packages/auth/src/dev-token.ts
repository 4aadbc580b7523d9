import { SignJWT } from 'jose';

/**
 * An HS256 token shaped like Supabase's (aud "authenticated", role "authenticated"), for local runs
 * and tests against a shared secret. It is signed with the configured secret, so it is accepted
 * exactly where a real one would be, and nowhere else.
 */
export async function signDevelopmentToken(input: {
  readonly secret: string;
  readonly userId: string;
  readonly organisationId: string;
  readonly organisationClaim?: string;
  readonly audience?: string;
  readonly issuer?: string;
  readonly expiresIn?: string;
}): Promise<string> {
  const claims: Record<string, unknown> = { role: 'authenticated' };
  const path = (input.organisationClaim ?? 'organisation_id').split('.');
  let target = claims;
  for (const segment of path.slice(0, -1)) {
    const next: Record<string, unknown> = {};
    target[segment] = next;
    target = next;
  }
  target[path[path.length - 1] ?? 'organisation_id'] = input.organisationId;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.userId)
    .setAudience(input.audience ?? 'authenticated')
    .setIssuedAt()
    .setExpirationTime(input.expiresIn ?? '1h');
  if (input.issuer) jwt = jwt.setIssuer(input.issuer);
  return jwt.sign(new TextEncoder().encode(input.secret));
}
