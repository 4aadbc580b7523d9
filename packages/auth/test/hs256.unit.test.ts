import { createHmac, randomUUID } from 'node:crypto';
import { type JWTPayload, errors, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@postwire/config';
import { AuthError, authEnvironment, createJwtVerifier } from '../src/index.ts';

// The in-thread HS256 verifier against jose's jwtVerify (what the verifier used before), token by token:
// both must accept the same tokens and refuse the rest for the same stated reason.
const secret = 'a-supabase-style-shared-secret-of-32+chars';
const userId = randomUUID();
const organisationId = randomUUID();
const NOW_MS = 1_800_000_000_500;
const NOW = Math.floor(NOW_MS / 1000);
const TOLERANCE = 5;

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
const sign = (input: string, key = secret) => createHmac('sha256', key).update(input).digest('base64url');
/** A compact token from raw segments; the signature is computed over them unless given. */
function compact(header: string, payload: string, signature?: string, key = secret): string {
  return `${header}.${payload}.${signature ?? sign(`${header}.${payload}`, key)}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({ sub: userId, aud: 'authenticated', exp: NOW + 3600, iat: NOW, organisation_id: organisationId, role: 'authenticated', ...extra });
const token = (payload: Record<string, unknown> = claims(), header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, key = secret) =>
  compact(json(header), json(payload), undefined, key);
const without = (claim: string) => Object.fromEntries(Object.entries(claims()).filter(([name]) => name !== claim));

/** The verifier as it was: jose, then the same checks of ours. */
async function reference(input: string, issuer?: string): Promise<string> {
  let payload: JWTPayload;
  try {
    payload = (
      await jwtVerify(input, new TextEncoder().encode(secret), {
        algorithms: ['HS256'],
        audience: 'authenticated',
        clockTolerance: TOLERANCE,
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(NOW_MS),
        ...(issuer ? { issuer } : {}),
      })
    ).payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) return '401 the token has expired';
    if (error instanceof errors.JWTClaimValidationFailed) return `401 the token's "${error.claim}" claim is not acceptable`;
    if (error instanceof errors.JWSSignatureVerificationFailed) return '401 the token signature is not valid';
    if (error instanceof errors.JOSEAlgNotAllowed) return '401 the token algorithm is not accepted';
    return '401 the token could not be verified';
  }
  if (typeof payload.iat === 'number' && payload.iat > NOW_MS / 1000 + TOLERANCE) return '401 the token was issued in the future';
  if (typeof payload.sub !== 'string' || !/^[0-9a-f-]{36}$/i.test(payload.sub)) return '401 the token subject is not a user id';
  if (typeof payload.organisation_id !== 'string' || !/^[0-9a-f-]{36}$/i.test(payload.organisation_id)) return '403 the token carries no organisation (claim "organisation_id")';
  return `accepted ${payload.sub.toLowerCase()}`;
}

async function outcome(input: string, issuer?: string): Promise<string> {
  const verify = createJwtVerifier(loadConfig(authEnvironment, { JWT_SECRET: secret, ...(issuer ? { JWT_ISSUER: issuer } : {}) }), { now: () => NOW_MS, cacheSize: 0 });
  try {
    return `accepted ${(await verify(input)).userId}`;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return `${error.status} ${error.message}`;
  }
}

const valid = token();
const [validHeader = '', validPayload = '', validSignature = ''] = valid.split('.');

const cases: [string, string, string?][] = [
  ['a valid token', valid],
  ['upper-case ids', token(claims({ sub: userId.toUpperCase() }))],
  ['expired beyond the tolerance', token(claims({ exp: NOW - TOLERANCE }))],
  ['expired within the tolerance', token(claims({ exp: NOW - TOLERANCE + 1 }))],
  ['not yet valid beyond the tolerance', token(claims({ nbf: NOW + TOLERANCE + 1 }))],
  ['not yet valid within the tolerance', token(claims({ nbf: NOW + TOLERANCE }))],
  ['issued in the future beyond the tolerance', token(claims({ iat: NOW + TOLERANCE + 1 }))],
  ['issued in the future within the tolerance', token(claims({ iat: NOW + TOLERANCE }))],
  ['iat as a string', token(claims({ iat: String(NOW) }))],
  ['nbf as a string', token(claims({ nbf: String(NOW) }))],
  ['exp as a string', token(claims({ exp: String(NOW + 60) }))],
  ['exp null', token(claims({ exp: null }))],
  ['no aud', token(without('aud'))],
  ['no exp', token(without('exp'))],
  ['no sub', token(without('sub'))],
  ['no claims at all', token({})],
  ['aud among others', token(claims({ aud: ['other', 'authenticated'] }))],
  ['aud not among others', token(claims({ aud: ['other', 'anon'] }))],
  ['aud another audience', token(claims({ aud: 'anon' }))],
  ['aud a number', token(claims({ aud: 7 }))],
  ['sub not a uuid', token(claims({ sub: 'service-account' }))],
  ['sub a number', token(claims({ sub: 42 }))],
  ['no organisation', token(without('organisation_id'))],
  ['organisation not a uuid', token(claims({ organisation_id: 'acme' }))],
  ['another secret', token(claims(), undefined, `${secret}-other`)],
  ['HS512', token(claims(), { alg: 'HS512' })],
  ['alg none', compact(json({ alg: 'none' }), json(claims()), '')],
  ['no alg', token(claims(), { typ: 'JWT' })],
  ['alg empty', token(claims(), { alg: '' })],
  ['alg a number', token(claims(), { alg: 256 })],
  ['crit b64 true', token(claims(), { alg: 'HS256', crit: ['b64'], b64: true })],
  ['crit b64 false', token(claims(), { alg: 'HS256', crit: ['b64'], b64: false })],
  ['crit b64 without b64', token(claims(), { alg: 'HS256', crit: ['b64'] })],
  ['crit b64 not a boolean', token(claims(), { alg: 'HS256', crit: ['b64'], b64: 'yes' })],
  ['crit unknown', token(claims(), { alg: 'HS256', crit: ['exp'], exp: 1 })],
  ['crit empty', token(claims(), { alg: 'HS256', crit: [] })],
  ['crit a string', token(claims(), { alg: 'HS256', crit: 'b64', b64: true })],
  ['b64 false without crit', token(claims(), { alg: 'HS256', b64: false })],
  ['header not JSON', compact(b64('{alg'), validPayload)],
  ['header an array', compact(b64('["HS256"]'), validPayload)],
  ['payload an array', compact(validHeader, b64('[1]'))],
  ['payload not JSON', compact(validHeader, b64('{"sub"'))],
  ['payload not UTF-8', compact(validHeader, Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url'))],
  ['payload with a non-ASCII character', compact(validHeader, `${validPayload}é`)],
  ['payload with a plus sign', compact(validHeader, `${validPayload.slice(0, -1)}+`)],
  ['payload with padding', compact(validHeader, `${validPayload}${'='.repeat((4 - (validPayload.length % 4)) % 4)}`)],
  ['signature padded', `${validHeader}.${validPayload}.${validSignature}=`],
  ['signature over-padded', `${validHeader}.${validPayload}.${validSignature}==`],
  ['signature one character longer', `${validHeader}.${validPayload}.${validSignature}A`],
  ['signature of length 4n+1', `${validHeader}.${validPayload}.${validSignature}AA`],
  ['signature empty', `${validHeader}.${validPayload}.`],
  ['signature with a slash', `${validHeader}.${validPayload}.${validSignature.slice(0, -1)}/`],
  ['two segments', `${validHeader}.${validPayload}`],
  ['four segments', `${valid}.x`],
  ['empty', ''],
  ['an issuer expected, none given', valid, 'https://id.example.test'],
  ['an issuer expected, another given', token(claims({ iss: 'https://other.example.test' })), 'https://id.example.test'],
  ['an issuer expected and given', token(claims({ iss: 'https://id.example.test' })), 'https://id.example.test'],
  ['an issuer expected, nothing else there', token({}), 'https://id.example.test'],
];

describe('HS256 in this thread, beside jose', () => {
  it.each(cases)('%s: the same outcome', async (_name, input, issuer) => {
    expect(await outcome(input, issuer)).toBe(await reference(input, issuer));
  });

  it('the table covers acceptance and every kind of refusal', async () => {
    const outcomes = new Set(await Promise.all(cases.map(([, input, issuer]) => outcome(input, issuer))));
    const kinds = new Set([...outcomes].map((entry) => entry.replace(/accepted .*/, 'accepted').replace(/"[a-z_]+"/g, '"x"')));
    expect([...kinds].sort()).toEqual([
      '401 the token algorithm is not accepted',
      '401 the token could not be verified',
      '401 the token has expired',
      '401 the token signature is not valid',
      '401 the token subject is not a user id',
      '401 the token was issued in the future',
      '401 the token\'s "x" claim is not acceptable',
      '403 the token carries no organisation (claim "x")',
      'accepted',
    ]);
  });
});
