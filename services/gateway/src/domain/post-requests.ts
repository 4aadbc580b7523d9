import { createHash } from 'node:crypto';

/** RFC 9110 visible ASCII (VCHAR, 0x21-0x7E): no spaces or controls, so a key reads and logs unambiguously. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyKeyCheck =
  | { readonly ok: true; readonly key: string | undefined }
  | { readonly ok: false; readonly message: string };

/** The `Idempotency-Key` header: absent, or one value of 1-255 visible ASCII characters. */
export function checkIdempotencyKey(header: string | readonly string[] | undefined): IdempotencyKeyCheck {
  if (header === undefined) return { ok: true, key: undefined };
  if (typeof header !== 'string') return { ok: false, message: 'send Idempotency-Key once' };
  if (!IDEMPOTENCY_KEY.test(header)) return { ok: false, message: 'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces)' };
  return { ok: true, key: header };
}

/**
 * The id of the post a keyed create makes: the same organisation and key give the same id on every
 * gateway instance and after any restart, so a retried request names the post the first one made (and
 * lands on the same key and partition). Two organisations' equal keys never collide. SHA-256 shaped as
 * an RFC 9562 version 8 UUID, as the contracts' derivedAccountId is.
 */
export function postIdFor(organisationId: string, idempotencyKey: string): string {
  const bytes = createHash('sha256').update(`postwire:post:${organisationId}:${idempotencyKey}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * JSON with object keys sorted at every depth and undefined members left out, so two bodies that mean
 * the same (keys in another order, other whitespace) are one text. Array order is kept: it is meaning.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 (hex) of the canonical body: the publisher compares it to tell a retry from another request under a used key. */
export function requestHashOf(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** One preference of a Prefer header is respond-async (a token without a value; parameters may follow). */
const RESPOND_ASYNC = /^\s*respond-async\s*(?:;|$)/i;

/** RFC 7240: does `Prefer` ask for `respond-async` (any case, with or without parameters, among other preferences)? */
export function prefersRespondAsync(header: string | readonly string[] | undefined): boolean {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  return values.some((value) => value.split(',').some((preference) => RESPOND_ASYNC.test(preference)));
}

export type Violation = { readonly field: string; readonly code: string; readonly message: string };

/** What the publisher answered a request with, as far as the HTTP answer is concerned. */
export type PostAnswerSummary =
  | { readonly type: 'post.accepted'; readonly postId: string }
  | { readonly type: 'post.rejected'; readonly postId: string; readonly violations: readonly Violation[] };

export type WriteOutcome =
  | { readonly kind: 'accepted'; readonly status: 200 | 201 }
  | { readonly kind: 'rejected'; readonly status: 422; readonly violations: readonly Violation[] }
  | { readonly kind: 'precondition-failed'; readonly status: 412 }
  | { readonly kind: 'pending'; readonly status: 202 };

/** The publisher's violation for a request whose If-Match version the post is no longer at. */
export const PRECONDITION_FAILED = 'precondition-failed';

/**
 * The HTTP answer to one post's request (DESIGN.md write path): accepted in time is 201 for a create and
 * 200 for any other command, rejected is 422 with every violation (412 when the post was no longer at the
 * version If-Match named), no answer in time is 202. Only the answer about this request's own post counts.
 */
export function writeOutcome(answers: readonly PostAnswerSummary[], request: { readonly postId: string; readonly creates: boolean }): WriteOutcome {
  const answer = answers.find((candidate) => candidate.postId === request.postId);
  if (!answer) return { kind: 'pending', status: 202 };
  if (answer.type === 'post.rejected' && answer.violations.some((violation) => violation.code === PRECONDITION_FAILED)) return { kind: 'precondition-failed', status: 412 };
  if (answer.type === 'post.rejected') return { kind: 'rejected', status: 422, violations: answer.violations };
  return { kind: 'accepted', status: request.creates ? 201 : 200 };
}

/** One line for a 422's `detail`: every violation's message, in the publisher's order. */
export function rejectionDetail(violations: readonly Violation[]): string {
  if (violations.length === 0) return 'The publisher refused the request.';
  return violations.map((violation) => (violation.field ? `${violation.field}: ${violation.message}` : violation.message)).join('; ');
}
