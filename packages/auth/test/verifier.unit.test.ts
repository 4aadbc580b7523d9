import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@postwire/config';
import { AuthError, authEnvironment, bearerToken, createJwtVerifier, signDevelopmentToken } from '../src/index.ts';

const secret = 'a-supabase-style-shared-secret-of-32+chars';
const userId = randomUUID();
const organisationId = randomUUID();
const settings = loadConfig(authEnvironment, { JWT_SECRET: secret });
const verify = createJwtVerifier(settings);

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(error)}`);
  return error;
}

describe('JWT verification (HS256 shared secret)', () => {
  it('accepts a Supabase-shaped token and names the caller', async () => {
    const token = await signDevelopmentToken({ secret, userId, organisationId });
    expect(await verify(token)).toEqual({ userId, organisationId, role: 'authenticated', token });
  });

  it('names the caller in lower case whatever case the token spells its ids in', async () => {
    const token = await signDevelopmentToken({ secret, userId: userId.toUpperCase(), organisationId: organisationId.toUpperCase() });
    expect(await verify(token)).toMatchObject({ userId, organisationId });
  });

  it('reads the organisation from a configured nested claim', async () => {
    const nested = createJwtVerifier(loadConfig(authEnvironment, { JWT_SECRET: secret, JWT_ORGANISATION_CLAIM: 'app_metadata.organisation_id' }));
    const token = await signDevelopmentToken({ secret, userId, organisationId, organisationClaim: 'app_metadata.organisation_id' });
    expect((await nested(token)).organisationId).toBe(organisationId);
  });

  it('refuses expired tokens, foreign signatures and other audiences with 401', async () => {
    const expired = await signDevelopmentToken({ secret, userId, organisationId, expiresIn: '-1m' });
    expect(await rejection(verify(expired))).toMatchObject({ status: 401, message: 'the token has expired' });
    const forged = await signDevelopmentToken({ secret: `${secret}-other`, userId, organisationId });
    expect(await rejection(verify(forged))).toMatchObject({ status: 401, message: 'the token signature is not valid' });
    const otherAudience = await signDevelopmentToken({ secret, userId, organisationId, audience: 'anon' });
    expect(await rejection(verify(otherAudience))).toMatchObject({ status: 401, challenge: 'invalid_token' });
  });

  it('refuses algorithms other than the configured one (no alg confusion, no "none")', async () => {
    const hs512 = await new SignJWT({ organisation_id: organisationId })
      .setProtectedHeader({ alg: 'HS512' }).setSubject(userId).setAudience('authenticated').setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect(await rejection(verify(hs512))).toMatchObject({ status: 401, message: 'the token algorithm is not accepted' });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: userId, organisation_id: organisationId, aud: 'authenticated', exp: 9e9 })).toString('base64url')}.`;
    expect(await rejection(verify(unsigned))).toMatchObject({ status: 401 });
  });

  it('a valid token without a user id subject is 401, without an organisation 403', async () => {
    const noUser = await new SignJWT({ organisation_id: organisationId })
      .setProtectedHeader({ alg: 'HS256' }).setSubject('service-account').setAudience('authenticated').setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect(await rejection(verify(noUser))).toMatchObject({ status: 401, message: 'the token subject is not a user id' });
    const noOrganisation = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setAudience('authenticated').setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect(await rejection(verify(noOrganisation))).toMatchObject({ status: 403, challenge: 'forbidden' });
  });

  it('extracts bearer tokens only from well-formed headers', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('the verified-token cache', () => {
  const clock = (start: number) => {
    let now = start;
    return { now: () => now, set: (value: number) => void (now = value) };
  };
  const signAt = (issuedAtSeconds: number, lifetimeSeconds: number, user = userId) =>
    new SignJWT({ organisation_id: organisationId })
      .setProtectedHeader({ alg: 'HS256' }).setSubject(user).setAudience('authenticated')
      .setIssuedAt(issuedAtSeconds).setExpirationTime(issuedAtSeconds + lifetimeSeconds)
      .sign(new TextEncoder().encode(secret));

  it('answers a token seen before with the caller it verified, until the token expires (clock tolerance included)', async () => {
    const time = clock(1_800_000_000_000);
    const cached = createJwtVerifier(settings, { now: time.now });
    const token = await signAt(1_800_000_000, 60);
    const first = await cached(token);
    expect(await cached(token)).toBe(first);
    // exp + 5 s of tolerance: accepted up to the last millisecond before, refused from then on, as jose does.
    time.set((1_800_000_000 + 60 + 5) * 1000 - 1);
    expect(await cached(token)).toBe(first);
    time.set((1_800_000_000 + 60 + 5) * 1000);
    expect(await rejection(cached(token))).toMatchObject({ status: 401, message: 'the token has expired' });
    const uncached = createJwtVerifier(settings, { now: time.now, cacheSize: 0 });
    expect(await rejection(uncached(token))).toMatchObject({ status: 401, message: 'the token has expired' });
    time.set((1_800_000_000 + 60 + 5) * 1000 - 1);
    expect(await uncached(token)).toEqual(first);
  });

  it('keeps a fractional exp to the whole second jose keeps it to, cached or not', async () => {
    const time = clock(1_800_000_000_000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'HS256' })}.${encode({ sub: userId, aud: 'authenticated', exp: 1_800_000_060.5, organisation_id: organisationId })}`;
    const token = `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
    const cached = createJwtVerifier(settings, { now: time.now });
    const uncached = createJwtVerifier(settings, { now: time.now, cacheSize: 0 });
    const first = await cached(token);
    // floor(now / 1000) < 1_800_000_065.5 holds up to 1_800_000_065_999 ms.
    time.set(1_800_000_065_999);
    expect(await cached(token)).toBe(first);
    expect(await uncached(token)).toEqual(first);
    time.set(1_800_000_066_000);
    expect(await rejection(cached(token))).toMatchObject({ message: 'the token has expired' });
    expect(await rejection(uncached(token))).toMatchObject({ message: 'the token has expired' });
  });

  it('remembers at most cacheSize tokens, dropping the oldest first', async () => {
    const time = clock(1_800_000_000_000);
    const verify = createJwtVerifier(settings, { now: time.now, cacheSize: 2 });
    const [a, b, c] = await Promise.all([randomUUID(), randomUUID(), randomUUID()].map((user) => signAt(1_800_000_000, 600, user)));
    const first = { a: await verify(a ?? ''), b: await verify(b ?? '') };
    expect(await verify(a ?? '')).toBe(first.a);
    await verify(c ?? '');
    expect(await verify(b ?? '')).toBe(first.b);
    // a went first: verified afresh, the same caller in a new object.
    const again = await verify(a ?? '');
    expect(again).not.toBe(first.a);
    expect(again).toEqual(first.a);
  });

  it('keeps no place for a token that does not verify, and refuses it every time', async () => {
    const time = clock(1_800_000_000_000);
    const verify = createJwtVerifier(settings, { now: time.now, cacheSize: 2 });
    const [a, b] = await Promise.all([randomUUID(), randomUUID()].map((user) => signAt(1_800_000_000, 600, user)));
    const first = { a: await verify(a ?? ''), b: await verify(b ?? '') };
    const forged = await signDevelopmentToken({ secret: `${secret}-other`, userId, organisationId });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await rejection(verify(forged))).toMatchObject({ status: 401, message: 'the token signature is not valid' });
      expect(await rejection(verify(`garbage.${attempt}.token`))).toMatchObject({ status: 401, message: 'the token could not be verified' });
    }
    const noOrganisation = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setAudience('authenticated')
      .setExpirationTime(1_800_000_600).sign(new TextEncoder().encode(secret));
    expect(await rejection(verify(noOrganisation))).toMatchObject({ status: 403 });
    expect(await rejection(verify(noOrganisation))).toMatchObject({ status: 403 });
    expect(await verify(a ?? '')).toBe(first.a);
    expect(await verify(b ?? '')).toBe(first.b);
  });
});

describe('auth configuration', () => {
  it('needs exactly one of a shared secret or a JWKS URL', () => {
    expect(() => loadConfig(authEnvironment, {})).toThrow(ConfigError);
    expect(() => loadConfig(authEnvironment, { JWT_SECRET: secret, JWT_JWKS_URL: 'https://id.example.test/jwks.json' })).toThrow(/exactly one/);
    expect(() => loadConfig(authEnvironment, { JWT_SECRET: 'short' })).toThrow(/at least 32/);
    expect(loadConfig(authEnvironment, { JWT_JWKS_URL: 'https://id.example.test/jwks.json' }).key).toEqual({ kind: 'jwks', url: 'https://id.example.test/jwks.json' });
  });
});
