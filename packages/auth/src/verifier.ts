import { type JWTPayload, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AuthSettings } from './config.ts';
import { type Hs256Failure, createHs256Verifier } from './hs256.ts';

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

export type JwtVerifierOptions = {
  /**
   * At most this many verified tokens are remembered until they expire; the oldest goes first. A token is
   * remembered only once it verified, so garbage never takes a place. 0 turns the cache off.
   */
  readonly cacheSize?: number;
  readonly now?: () => number;
};

/** Longer than any token an identity provider issues: such a string is verified, never remembered. */
const CACHEABLE_TOKEN_LENGTH = 8_192;

export function createJwtVerifier(settings: AuthSettings, options: JwtVerifierOptions = {}): JwtVerifier {
  const now = options.now ?? Date.now;
  const cacheSize = options.cacheSize ?? 10_000;
  const verifyPayload = settings.key.kind === 'secret' ? hs256Payload(settings, settings.key.secret, now) : jwksPayload(settings, settings.key.url, now);
  // Until when (ms) each remembered token stays accepted: jose's own expiry rule, exp <= now - tolerance.
  const cache = new Map<string, { readonly caller: Caller; readonly acceptedUntilMs: number }>();

  return async (token) => {
    const cached = cache.get(token);
    if (cached) {
      if (now() < cached.acceptedUntilMs) return cached.caller;
      cache.delete(token);
    }
    const payload = await verifyPayload(token);
    const caller = callerFrom(payload, token, settings, now);
    if (cacheSize > 0 && token.length <= CACHEABLE_TOKEN_LENGTH && typeof payload.exp === 'number') {
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      // jose refuses once floor(now / 1000) >= exp + tolerance: for a fractional exp, from the next whole second.
      cache.set(token, { caller, acceptedUntilMs: Math.ceil(payload.exp + settings.clockToleranceSeconds) * 1000 });
    }
    return caller;
  };
}

/** HS256 in this thread (see hs256.ts): no promise, no thread-pool job, the key prepared once. */
function hs256Payload(settings: AuthSettings, secret: string, now: () => number): (token: string) => Promise<JWTPayload> {
  const verify = createHs256Verifier(secret, {
    audience: settings.audience,
    clockToleranceSeconds: settings.clockToleranceSeconds,
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
  });
  return async (token) => {
    const result = verify(token, now());
    if (result.ok) return result.payload;
    throw new AuthError(401, 'invalid_token', describeFailure(result));
  };
}

/** RS256 / ES256 against the identity provider's key set, through jose (keys fetched once, then by kid). */
function jwksPayload(settings: AuthSettings, url: string, now: () => number): (token: string) => Promise<JWTPayload> {
  const keys = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
  return async (token) => {
    try {
      const options = {
        algorithms: ['RS256', 'ES256'],
        audience: settings.audience,
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(now()),
        ...(settings.issuer ? { issuer: settings.issuer } : {}),
      };
      return (await jwtVerify(token, keys, options)).payload;
    } catch (error) {
      throw new AuthError(401, 'invalid_token', describe(error));
    }
  };
}

/** The checks of ours that follow the signature and the registered claims. */
function callerFrom(payload: JWTPayload, token: string, settings: AuthSettings, now: () => number): Caller {
  // jose checks iat only against a maximum age; a token "issued" later than now is not one we issued.
  if (typeof payload.iat === 'number' && payload.iat > now() / 1000 + settings.clockToleranceSeconds) {
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
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function describeFailure(failure: Hs256Failure): string {
  switch (failure.reason) {
    case 'expired':
      return 'the token has expired';
    case 'claim':
      return `the token's "${failure.claim}" claim is not acceptable`;
    case 'signature':
      return 'the token signature is not valid';
    case 'algorithm':
      return 'the token algorithm is not accepted';
    case 'malformed':
      return 'the token could not be verified';
  }
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
