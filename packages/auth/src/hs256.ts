import { type KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

/**
 * HS256 compact JWT verification in the calling thread. jose's jwtVerify does the same through WebCrypto,
 * which turns every token into a thread-pool job and a promise (and, given the secret as bytes, a key import
 * per call): most of the gateway's time per request. The checks and their order are jose 6's for the
 * options the verifier uses (algorithms, audience, issuer, clockTolerance, requiredClaims sub and exp), and
 * every failure is one of the outcomes the verifier describes; test/hs256.unit.test.ts holds the two side by
 * side on a table of malformed and borderline tokens.
 */
export type Hs256Options = {
  readonly audience: string;
  readonly issuer?: string;
  readonly clockToleranceSeconds: number;
};

/** Why a token was refused, named as the verifier describes it to callers. */
export type Hs256Failure =
  | { readonly reason: 'malformed' }
  | { readonly reason: 'algorithm' }
  | { readonly reason: 'signature' }
  | { readonly reason: 'expired' }
  | { readonly reason: 'claim'; readonly claim: string };

export type Hs256Result = { readonly ok: true; readonly payload: Record<string, unknown> } | ({ readonly ok: false } & Hs256Failure);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;
// eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included, is what jose accepts
const ASCII = /^[\x00-\x7f]*$/;
const malformed = { ok: false, reason: 'malformed' } as const;

/**
 * Decodes one segment as jose does without Uint8Array.fromBase64 (Node 24): `+` and `/` are refused, then
 * atob's rules apply (up to two `=` of padding on a length divisible by four, never a length of 4n+1).
 */
function decodeSegment(segment: string): Buffer | undefined {
  let body = segment;
  if (body.length % 4 === 0) body = body.endsWith('==') ? body.slice(0, -2) : body.endsWith('=') ? body.slice(0, -1) : body;
  if (body.length % 4 === 1 || !BASE64URL.test(body)) return undefined;
  return Buffer.from(body, 'base64url');
}

/** jose's isObject: a plain JSON object, not an array or null. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function parseJsonObject(bytes: Buffer | undefined): Record<string, unknown> | undefined {
  if (!bytes) return undefined;
  try {
    const parsed: unknown = JSON.parse(strictUtf8.decode(bytes));
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `crit` rules jose applies to a compact JWS (only `b64` is a recognised extension): undefined when the
 * header is unacceptable, else whether the payload is base64url-encoded.
 */
function payloadEncoded(header: Record<string, unknown>): boolean | undefined {
  const { crit } = header;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((entry) => typeof entry !== 'string' || entry.length === 0)) return undefined;
  for (const parameter of crit as string[]) {
    if (parameter !== 'b64' || !Object.hasOwn(header, parameter) || header[parameter] === undefined) return undefined;
  }
  return typeof header.b64 === 'boolean' ? header.b64 : undefined;
}

function numericDate(payload: Record<string, unknown>, claim: string): number | undefined | null {
  const value = payload[claim];
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : null;
}

export function createHs256Verifier(secret: string, options: Hs256Options): (token: string, nowMs: number) => Hs256Result {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  // jose checks presence in reverse order of its list: iss (when configured), aud, exp, sub.
  const required = [...(options.issuer === undefined ? [] : ['iss']), 'aud', 'exp', 'sub'];
  const tolerance = options.clockToleranceSeconds;

  return (token, nowMs) => {
    const parts = token.split('.');
    if (parts.length !== 3) return malformed;
    const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
    const header = parseJsonObject(decodeSegment(encodedHeader));
    if (!header) return malformed;
    const encoded = payloadEncoded(header);
    if (encoded === undefined) return malformed;
    if (typeof header.alg !== 'string' || header.alg === '') return malformed;
    if (header.alg !== 'HS256') return { ok: false, reason: 'algorithm' };
    // jose encodes the signing input as ASCII and refuses anything else before it looks at the signature.
    if (!ASCII.test(encodedPayload)) return malformed;
    const signature = decodeSegment(encodedSignature);
    if (!signature) return malformed;
    const expected = createHmac('sha256', key).update(`${encodedHeader}.${encodedPayload}`).digest();
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return { ok: false, reason: 'signature' };
    // An unencoded payload is refused only after its signature checked out, as jose does for JWTs.
    if (!encoded) return malformed;
    const payload = parseJsonObject(decodeSegment(encodedPayload));
    if (!payload) return malformed;

    for (const claim of required) if (!Object.hasOwn(payload, claim)) return { ok: false, reason: 'claim', claim };
    if (options.issuer !== undefined && payload.iss !== options.issuer) return { ok: false, reason: 'claim', claim: 'iss' };
    const { aud } = payload;
    const audienceMatches = typeof aud === 'string' ? aud === options.audience : Array.isArray(aud) && aud.includes(options.audience);
    if (!audienceMatches) return { ok: false, reason: 'claim', claim: 'aud' };

    const now = Math.floor(nowMs / 1000);
    if (numericDate(payload, 'iat') === null) return { ok: false, reason: 'claim', claim: 'iat' };
    const nbf = numericDate(payload, 'nbf');
    if (nbf === null || (nbf !== undefined && nbf > now + tolerance)) return { ok: false, reason: 'claim', claim: 'nbf' };
    const exp = numericDate(payload, 'exp');
    if (exp === null) return { ok: false, reason: 'claim', claim: 'exp' };
    if (exp !== undefined && exp <= now - tolerance) return { ok: false, reason: 'expired' };
    return { ok: true, payload };
  };
}
