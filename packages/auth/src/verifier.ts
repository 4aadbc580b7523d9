import { type JWTPayload, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AuthSettings } from './config.ts';

/** Who is calling, as verified from their bearer token. */
export type Caller = {
  readonly userId: string;
  readonly organisationId: string;
  readonly role: string | undefined;
  /** The bearer token itself, forwarded to the owning service, which verifies it again. */
  readonly token: string;
};

/** 401: no usable credentials. 403: a valid token that may not do this (no organisation). */
export class AuthError extends Error {
  readonly status: 401 | 403;
  readonly challenge: 'missing' | 'invalid_token' | 'forbidden';

  constructor(status: 401 | 403, challenge: AuthError['challenge'], message: string) {
    super(message);
    this.name = 'AuthError';
    this.status = status;
    this.challenge = challenge;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type JwtVerifier = (token: string) => Promise<Caller>;

export function createJwtVerifier(settings: AuthSettings): JwtVerifier {
  const key =
    settings.key.kind === 'secret'
      ? new TextEncoder().encode(settings.key.secret)
      : createRemoteJWKSet(new URL(settings.key.url), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  const algorithms = settings.key.kind === 'secret' ? ['HS256'] : ['RS256', 'ES256'];

  return async (token) => {
    let payload: JWTPayload;
    try {
      const options = {
        algorithms,
        audience: settings.audience,
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
        ...(settings.issuer ? { issuer: settings.issuer } : {}),
      };
      payload = (typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options)).payload;
    } catch (error) {
      throw new AuthError(401, 'invalid_token', describe(error));
    }
    // jose checks iat only against a maximum age; a token "issued" later than now is not one we issued.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + settings.clockToleranceSeconds) {
      throw new AuthError(401, 'invalid_token', 'the token was issued in the future');
    }
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
      throw new AuthError(401, 'invalid_token', 'the token subject is not a user id');
    }
    const organisationId = claimAt(payload, settings.organisationClaim);
    if (typeof organisationId !== 'string' || !UUID.test(organisationId)) {
      throw new AuthError(403, 'forbidden', `the token carries no organisation (claim "${settings.organisationClaim}")`);
    }
    const role = typeof payload.role === 'string' ? payload.role : undefined;
    // UUIDs are compared as text later (membership, RLS claims): one spelling, Postgres's.
    return { userId: payload.sub.toLowerCase(), organisationId: organisationId.toLowerCase(), role, token };
  };
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" claim is not acceptable`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'the token could not be verified';
}

/** The bearer token from an Authorization header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim()) : null;
  return match?.[1];
}
