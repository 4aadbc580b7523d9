import { GraphApiError, GraphNetworkError, GraphResponseError } from './errors.ts';

/**
 * What a caller does about a failed Graph call, from Meta's code/subcode (shared/reference/meta-graph-api.md §5).
 * `ambiguous` is ours, not Meta's: a write that timed out or lost its connection after sending may have been
 * applied, and so may a write Meta answered with code 1 or 2, any HTTP 5xx or 4/2207051 (all seen on posts that
 * went live), so the caller reconciles (reads back) before deciding anything, never retrying blindly.
 */
export type GraphErrorClass =
  | 'transient'
  | 'ambiguous'
  | 'rate-limited'
  | 'media-not-ready'
  | 'container-missing'
  | 'container-expired'
  | 'publish-quota'
  | 'token-invalid'
  | 'account-action-required'
  | 'permission-missing'
  | 'page-role-lost'
  | 'invalid-parameter'
  | 'bad-media'
  | 'account-restricted'
  | 'policy-block'
  | 'duplicate'
  | 'unknown';

export type GraphErrorAction =
  | 'retry-with-backoff'
  | 'reconcile-then-retry'
  | 'wait-for-usage'
  | 'poll-container'
  | 'retry-then-new-container'
  | 'new-container'
  | 'wait-for-quota'
  | 'reconnect-account'
  | 'user-must-act-on-facebook'
  | 'request-permissions'
  | 'regain-page-role'
  | 'fail'
  | 'back-off';

/** Which media rule a `bad-media` error broke, so the message can say what to change. */
export type BadMediaRule =
  | 'media-fetch-failed'
  | 'video-format'
  | 'image-too-large'
  | 'image-format'
  | 'aspect-ratio'
  | 'caption-too-long'
  | 'too-many-tags'
  | 'thumb-offset'
  | 'photo-invalid';

export type GraphErrorClassification = {
  readonly class: GraphErrorClass;
  /** May the same request succeed later (after the action's wait)? False means: change something first. */
  readonly retryable: boolean;
  readonly action: GraphErrorAction;
  /** The account behind the token needs attention (reconnect, permissions, Facebook checkpoint, restriction). */
  readonly accountProblem: boolean;
  readonly rule?: BadMediaRule;
  /** When Meta said (through usage headers) how long to wait. */
  readonly retryAfterMs?: number;
  /** A sentence to show the person whose post or connection failed. */
  readonly userMessage: string;
};

type Policy = { readonly retryable: boolean; readonly action: GraphErrorAction; readonly accountProblem: boolean };

export const CLASS_POLICY: Readonly<Record<GraphErrorClass, Policy>> = {
  transient: { retryable: true, action: 'retry-with-backoff', accountProblem: false },
  ambiguous: { retryable: false, action: 'reconcile-then-retry', accountProblem: false },
  'rate-limited': { retryable: true, action: 'wait-for-usage', accountProblem: false },
  'media-not-ready': { retryable: true, action: 'poll-container', accountProblem: false },
  'container-missing': { retryable: true, action: 'retry-then-new-container', accountProblem: false },
  'container-expired': { retryable: false, action: 'new-container', accountProblem: false },
  'publish-quota': { retryable: true, action: 'wait-for-quota', accountProblem: false },
  'token-invalid': { retryable: false, action: 'reconnect-account', accountProblem: true },
  'account-action-required': { retryable: false, action: 'user-must-act-on-facebook', accountProblem: true },
  'permission-missing': { retryable: false, action: 'request-permissions', accountProblem: true },
  'page-role-lost': { retryable: false, action: 'regain-page-role', accountProblem: true },
  'invalid-parameter': { retryable: false, action: 'fail', accountProblem: false },
  'bad-media': { retryable: false, action: 'fail', accountProblem: false },
  'account-restricted': { retryable: false, action: 'fail', accountProblem: true },
  'policy-block': { retryable: true, action: 'back-off', accountProblem: false },
  duplicate: { retryable: false, action: 'fail', accountProblem: false },
  unknown: { retryable: false, action: 'fail', accountProblem: false },
};

/**
 * Instagram's 2207xxx subcodes are unique to one meaning whatever code they travel with, so they are matched
 * first: that is what makes 1/2207057 bad media while 1 alone is transient, 4/2207051 a restriction while 4
 * alone is a rate limit, and -2/2207020 an expired container while -2/2207003 is a (transient) download timeout.
 */
const BY_SUBCODE: ReadonlyMap<number, { class: GraphErrorClass; rule?: BadMediaRule }> = new Map([
  [2207001, { class: 'transient' }],
  [2207032, { class: 'transient' }],
  [2207003, { class: 'transient' }],
  [2207027, { class: 'media-not-ready' }],
  [2207008, { class: 'container-missing' }],
  [2207020, { class: 'container-expired' }],
  [2207042, { class: 'publish-quota' }],
  [2207052, { class: 'bad-media', rule: 'media-fetch-failed' }],
  [2207026, { class: 'bad-media', rule: 'video-format' }],
  [2207004, { class: 'bad-media', rule: 'image-too-large' }],
  [2207005, { class: 'bad-media', rule: 'image-format' }],
  [2207009, { class: 'bad-media', rule: 'aspect-ratio' }],
  [2207010, { class: 'bad-media', rule: 'caption-too-long' }],
  [2207040, { class: 'bad-media', rule: 'too-many-tags' }],
  [2207057, { class: 'bad-media', rule: 'thumb-offset' }],
  // -1/2207053: the upload failed for an unknown reason; only a new container helps (then publish again).
  [2207053, { class: 'container-expired' }],
  [2207051, { class: 'account-restricted' }],
  [2207050, { class: 'account-restricted' }],
  // -1/2207073: deleting media this login or media kind cannot delete. Code -1 alone means "unknown, retry",
  // but this answer will never change.
  [2207073, { class: 'invalid-parameter' }],
]);

/** Codes alone, when no subcode above matched. */
function byCode(code: number, subcode: number | undefined, write: boolean): { class: GraphErrorClass; rule?: BadMediaRule } | undefined {
  switch (code) {
    case 1:
    case 2:
    case -1:
    case -2:
      return { class: 'transient' };
    case 4:
    case 17:
    case 32:
    case 613:
      return { class: 'rate-limited' };
    case 9007:
      return { class: 'media-not-ready' };
    case 24:
      return { class: 'container-missing' };
    case 9:
      return { class: 'publish-quota' };
    case 190:
      // 492 travels as a subcode of 190: the user lost the Page role, the token itself is fine.
      if (subcode === 492) return { class: 'page-role-lost' };
      return { class: subcode === 459 || subcode === 464 ? 'account-action-required' : 'token-invalid' };
    case 102:
      return { class: 'token-invalid' };
    case 10:
      return { class: 'permission-missing' };
    case 492:
      return { class: 'page-role-lost' };
    case 100:
      // 100/33 on a read of an object just created: Meta has not caught up yet (seen since 2026-05), so read again.
      return { class: subcode === 33 && !write ? 'transient' : 'invalid-parameter' };
    case 9004:
      return { class: 'bad-media', rule: 'media-fetch-failed' };
    case 352:
      return { class: 'bad-media', rule: 'video-format' };
    case 36000:
      return { class: 'bad-media', rule: 'image-too-large' };
    case 36001:
      return { class: 'bad-media', rule: 'image-format' };
    case 36003:
      return { class: 'bad-media', rule: 'aspect-ratio' };
    case 36004:
      return { class: 'bad-media', rule: 'caption-too-long' };
    // Facebook Pages: the photo could not be fetched or read (not in the reference table; Meta's 324).
    case 324:
      return { class: 'bad-media', rule: 'photo-invalid' };
    case 25:
      return { class: 'account-restricted' };
    case 368:
      return { class: 'policy-block' };
    case 506:
      return { class: 'duplicate' };
  }
  if (code >= 200 && code <= 299) return { class: 'permission-missing' };
  // Business use case rate limits: 80001 Pages, 80002 Instagram, and Meta's other 800xx BUC codes.
  if (code >= 80000 && code <= 80014) return { class: 'rate-limited' };
  return undefined;
}

const BAD_MEDIA_MESSAGES: Readonly<Record<BadMediaRule, string>> = {
  'media-fetch-failed': 'Meta could not download the media file. Check that its URL is public and answers with the file.',
  'video-format': 'The video was refused: use MP4 or MOV (H.264/HEVC, AAC), 3 s to 15 min for reels, 3 to 60 s for stories.',
  'image-too-large': 'The image is larger than 8 MB.',
  'image-format': 'The image format is not supported: Instagram accepts JPEG only.',
  'aspect-ratio': 'The image aspect ratio is outside what Instagram accepts (4:5 to 1.91:1).',
  'caption-too-long': 'The caption is longer than 2,200 characters (hashtags included).',
  'too-many-tags': 'The post tags or mentions too many accounts (at most 20 @mentions).',
  'thumb-offset': 'The cover frame (thumb_offset) is outside the video.',
  'photo-invalid': 'Facebook could not read the photo: check that its URL is public and points at an image.',
};

function userMessageFor(kind: GraphErrorClass, rule: BadMediaRule | undefined, metaUserMessage: string | undefined): string {
  switch (kind) {
    case 'transient':
      return 'Meta is temporarily unavailable; we will retry.';
    case 'ambiguous':
      return 'Meta did not confirm the request in time; we are checking whether it went through before retrying.';
    case 'rate-limited':
      return 'Meta asked us to slow down for this account; we will continue when the limit resets.';
    case 'media-not-ready':
      return 'Instagram is still processing the media; we will publish once it is ready.';
    case 'container-missing':
      return 'Instagram could not find the prepared media yet; we will retry and prepare it again if needed.';
    case 'container-expired':
      return 'The prepared media can no longer be published (it expired or its upload failed); it will be prepared again.';
    case 'publish-quota':
      return 'This Instagram account reached its daily publishing limit; the post will go out when quota frees up.';
    case 'token-invalid':
      return 'The connection to this account has expired or was revoked (for example after a password change). Reconnect the account.';
    case 'account-action-required':
      return 'Facebook needs the account owner to log in on Facebook and resolve a security check before we can publish.';
    case 'permission-missing':
      return 'A permission needed for this action was not granted. Reconnect the account and accept all requested permissions.';
    case 'page-role-lost':
      return 'The connected user no longer has a role on this Facebook Page that allows publishing. Ask a Page admin to give the role back.';
    case 'invalid-parameter':
      return metaUserMessage ?? 'Meta refused the request as invalid.';
    case 'bad-media':
      return rule === undefined ? (metaUserMessage ?? 'Meta refused the media.') : BAD_MEDIA_MESSAGES[rule];
    case 'account-restricted':
      return 'Meta has restricted this account from publishing. Check the account in the Instagram or Facebook app.';
    case 'policy-block':
      return 'Meta temporarily blocked this action as possibly abusive; we will try again later.';
    case 'duplicate':
      return 'Meta refused the post as a duplicate of a recent one.';
    case 'unknown':
      return metaUserMessage ?? 'Meta refused the request for an unexpected reason.';
  }
}

function result(kind: GraphErrorClass, extra: { rule?: BadMediaRule; retryAfterMs?: number; metaUserMessage?: string } = {}): GraphErrorClassification {
  return {
    class: kind,
    ...CLASS_POLICY[kind],
    ...(extra.rule === undefined ? {} : { rule: extra.rule }),
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
    userMessage: userMessageFor(kind, extra.rule, extra.metaUserMessage),
  };
}

/** Answers to a write that Meta has given for writes it applied anyway (the reference's "errors after the write"). */
const APPLIED_ANYWAY_SUBCODES: ReadonlySet<number> = new Set([2207051]);
const APPLIED_ANYWAY_CODES: ReadonlySet<number> = new Set([1, 2]);

/**
 * The class of a Meta error from its code, subcode, transient flag and HTTP status (pure; used by
 * classifyGraphError). `write` says the failed call was a POST or DELETE: then an answer Meta has been seen to
 * give for an applied write is `ambiguous`.
 */
export function classifyCodes(input: {
  code: number | undefined;
  subcode?: number | undefined;
  isTransient?: boolean;
  httpStatus?: number;
  write?: boolean;
}): { class: GraphErrorClass; rule?: BadMediaRule } {
  const write = input.write === true;
  if (write && input.subcode !== undefined && APPLIED_ANYWAY_SUBCODES.has(input.subcode)) return { class: 'ambiguous' };
  const bySubcode = input.subcode === undefined ? undefined : BY_SUBCODE.get(input.subcode);
  if (bySubcode) return bySubcode;
  if (write && ((input.code !== undefined && APPLIED_ANYWAY_CODES.has(input.code)) || (input.httpStatus ?? 0) >= 500)) {
    return { class: 'ambiguous' };
  }
  const fromCode = input.code === undefined ? undefined : byCode(input.code, input.subcode, write);
  if (fromCode) return fromCode;
  // Only after the codes: Meta sets is_transient on rate limits too, which must not be retried blindly.
  if (input.isTransient === true || (input.httpStatus ?? 0) >= 500) return { class: 'transient' };
  return { class: 'unknown' };
}

/** Maps any error thrown by the Graph client (or anything else) to what the caller should do. */
export function classifyGraphError(error: unknown): GraphErrorClassification {
  if (error instanceof GraphNetworkError) return result(error.ambiguous ? 'ambiguous' : 'transient');
  if (error instanceof GraphResponseError) return result('unknown');
  if (!(error instanceof GraphApiError)) return result('unknown');
  const metaUserMessage = error.userMessage;
  if (error.source === 'instagram-oauth') {
    // Instagram Login's OAuth errors (used or expired code, wrong secret, bad redirect) never heal on retry.
    return result(error.httpStatus >= 500 ? 'transient' : 'invalid-parameter', { ...(metaUserMessage ? { metaUserMessage } : {}) });
  }
  const found = classifyCodes({
    code: error.code,
    subcode: error.subcode,
    isTransient: error.isTransient,
    httpStatus: error.httpStatus,
    write: error.method !== undefined && error.method !== 'GET',
  });
  return result(found.class, {
    ...(found.rule === undefined ? {} : { rule: found.rule }),
    ...(found.class === 'rate-limited' && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(metaUserMessage === undefined ? {} : { metaUserMessage }),
  });
}
