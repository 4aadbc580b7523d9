import { describe, expect, it } from 'vitest';
import {
  GraphApiError,
  GraphNetworkError,
  GraphResponseError,
  classifyCodes,
  classifyGraphError,
  parseErrorBody,
  type BadMediaRule,
  type GraphErrorClass,
} from '../src/index.ts';

type Call = { isTransient?: boolean; httpStatus?: number; userMsg?: string; method?: 'GET' | 'POST' | 'DELETE' | null };

function metaError(code: number | undefined, subcode?: number, extra: Call = {}): GraphApiError {
  const fields = parseErrorBody(extra.httpStatus ?? 400, {
    error: {
      message: `(#${code ?? '-'}) test`,
      type: 'OAuthException',
      ...(code === undefined ? {} : { code }),
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      ...(extra.userMsg === undefined ? {} : { error_user_msg: extra.userMsg }),
      is_transient: extra.isTransient ?? false,
      fbtrace_id: 'AbCdEf',
    },
  });
  if (!fields) throw new Error('no error parsed');
  // `method: null` builds an error without request details (as parseErrorBody callers outside the transport do).
  if (extra.method === null) return new GraphApiError(fields);
  const method = extra.method ?? 'GET';
  return new GraphApiError(fields, { method, path: method === 'GET' ? '/v25.0/me' : '/v25.0/1/media_publish' });
}

// What each class means for the caller, written out here (not read from the implementation's CLASS_POLICY), so a
// change of policy in classify.ts fails these tests.
type Expected = { retryable: boolean; action: string; accountProblem: boolean; userMessage: string };
const EXPECTED: Readonly<Record<GraphErrorClass, Expected>> = {
  transient: { retryable: true, action: 'retry-with-backoff', accountProblem: false, userMessage: 'Meta is temporarily unavailable; we will retry.' },
  ambiguous: {
    retryable: false,
    action: 'reconcile-then-retry',
    accountProblem: false,
    userMessage: 'Meta did not confirm the request in time; we are checking whether it went through before retrying.',
  },
  'rate-limited': {
    retryable: true,
    action: 'wait-for-usage',
    accountProblem: false,
    userMessage: 'Meta asked us to slow down for this account; we will continue when the limit resets.',
  },
  'media-not-ready': {
    retryable: true,
    action: 'poll-container',
    accountProblem: false,
    userMessage: 'Instagram is still processing the media; we will publish once it is ready.',
  },
  'container-missing': {
    retryable: true,
    action: 'retry-then-new-container',
    accountProblem: false,
    userMessage: 'Instagram could not find the prepared media yet; we will retry and prepare it again if needed.',
  },
  'container-expired': {
    retryable: false,
    action: 'new-container',
    accountProblem: false,
    userMessage: 'The prepared media can no longer be published (it expired or its upload failed); it will be prepared again.',
  },
  'publish-quota': {
    retryable: true,
    action: 'wait-for-quota',
    accountProblem: false,
    userMessage: 'This Instagram account reached its daily publishing limit; the post will go out when quota frees up.',
  },
  'token-invalid': {
    retryable: false,
    action: 'reconnect-account',
    accountProblem: true,
    userMessage: 'The connection to this account has expired or was revoked (for example after a password change). Reconnect the account.',
  },
  'account-action-required': {
    retryable: false,
    action: 'user-must-act-on-facebook',
    accountProblem: true,
    userMessage: 'Facebook needs the account owner to log in on Facebook and resolve a security check before we can publish.',
  },
  'permission-missing': {
    retryable: false,
    action: 'request-permissions',
    accountProblem: true,
    userMessage: 'A permission needed for this action was not granted. Reconnect the account and accept all requested permissions.',
  },
  'page-role-lost': {
    retryable: false,
    action: 'regain-page-role',
    accountProblem: true,
    userMessage: 'The connected user no longer has a role on this Facebook Page that allows publishing. Ask a Page admin to give the role back.',
  },
  'invalid-parameter': { retryable: false, action: 'fail', accountProblem: false, userMessage: 'Meta refused the request as invalid.' },
  'bad-media': { retryable: false, action: 'fail', accountProblem: false, userMessage: '(per rule, below)' },
  'account-restricted': {
    retryable: false,
    action: 'fail',
    accountProblem: true,
    userMessage: 'Meta has restricted this account from publishing. Check the account in the Instagram or Facebook app.',
  },
  'policy-block': {
    retryable: true,
    action: 'back-off',
    accountProblem: false,
    userMessage: 'Meta temporarily blocked this action as possibly abusive; we will try again later.',
  },
  duplicate: { retryable: false, action: 'fail', accountProblem: false, userMessage: 'Meta refused the post as a duplicate of a recent one.' },
  unknown: { retryable: false, action: 'fail', accountProblem: false, userMessage: 'Meta refused the request for an unexpected reason.' },
};

const BAD_MEDIA: Readonly<Record<BadMediaRule, string>> = {
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

/** The whole classification a caller gets, exactly: no extra keys (a stray `retryAfterMs` or `rule` fails). */
function expected(kind: GraphErrorClass, extra: { rule?: BadMediaRule; retryAfterMs?: number; userMessage?: string } = {}) {
  const { userMessage, ...policy } = EXPECTED[kind];
  return {
    class: kind,
    ...policy,
    ...(extra.rule === undefined ? {} : { rule: extra.rule }),
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
    userMessage: extra.userMessage ?? (extra.rule === undefined ? userMessage : BAD_MEDIA[extra.rule]),
  };
}

type Row = readonly [code: number | undefined, subcode: number | undefined, call: Call, kind: GraphErrorClass, rule?: BadMediaRule];
const READ: Call = {};
const WRITE: Call = { method: 'POST' };

// Every row of the reference's §5 table, the code-only and subcode-only forms, the range boundaries and the
// read/write split of the client's rules.
const TABLE: readonly Row[] = [
  // transient
  [1, undefined, READ, 'transient'],
  [2, undefined, READ, 'transient'],
  [-1, undefined, READ, 'transient'],
  [-2, undefined, READ, 'transient'],
  [-1, 2207001, READ, 'transient'],
  [-1, 2207032, READ, 'transient'],
  [-2, 2207003, READ, 'transient'],
  [-1, 2207001, WRITE, 'transient'],
  [-1, undefined, WRITE, 'transient'],
  // 100/33 on a read of a just-created object: transient; on a write it is a real refusal
  [100, 33, READ, 'transient'],
  [100, 33, { method: null }, 'transient'],
  [100, 33, WRITE, 'invalid-parameter'],
  [100, 33, { method: 'DELETE' }, 'invalid-parameter'],
  // rate limits, with the BUC range's boundaries
  [4, undefined, READ, 'rate-limited'],
  [17, undefined, READ, 'rate-limited'],
  [32, undefined, READ, 'rate-limited'],
  [613, undefined, READ, 'rate-limited'],
  [80000, undefined, READ, 'rate-limited'],
  [80001, undefined, READ, 'rate-limited'],
  [80002, undefined, READ, 'rate-limited'],
  [80014, undefined, READ, 'rate-limited'],
  [79999, undefined, READ, 'unknown'],
  [80015, undefined, READ, 'unknown'],
  [4, undefined, WRITE, 'rate-limited'],
  // containers and quota, with and without their subcodes
  [9007, 2207027, READ, 'media-not-ready'],
  [9007, undefined, READ, 'media-not-ready'],
  [-1, 2207027, READ, 'media-not-ready'],
  [24, 2207008, READ, 'container-missing'],
  [24, undefined, READ, 'container-missing'],
  [100, 2207008, READ, 'container-missing'],
  [-2, 2207020, READ, 'container-expired'],
  [-1, 2207053, READ, 'container-expired'],
  [-1, 2207053, WRITE, 'container-expired'],
  [9, 2207042, READ, 'publish-quota'],
  [9, undefined, READ, 'publish-quota'],
  [9, 2207042, WRITE, 'publish-quota'],
  // tokens and accounts
  [190, undefined, READ, 'token-invalid'],
  [190, 458, READ, 'token-invalid'],
  [190, 460, READ, 'token-invalid'],
  [190, 463, READ, 'token-invalid'],
  [190, 467, READ, 'token-invalid'],
  [190, 460, WRITE, 'token-invalid'],
  [102, undefined, READ, 'token-invalid'],
  [102, 459, READ, 'token-invalid'],
  [102, 492, READ, 'token-invalid'],
  [190, 459, READ, 'account-action-required'],
  [190, 464, READ, 'account-action-required'],
  [190, 492, READ, 'page-role-lost'],
  [190, 492, WRITE, 'page-role-lost'],
  [492, undefined, READ, 'page-role-lost'],
  [10, undefined, READ, 'permission-missing'],
  [199, undefined, READ, 'unknown'],
  [200, undefined, READ, 'permission-missing'],
  [250, undefined, READ, 'permission-missing'],
  [299, undefined, READ, 'permission-missing'],
  [300, undefined, READ, 'unknown'],
  // refusals
  [100, undefined, READ, 'invalid-parameter'],
  [100, 2207028, READ, 'invalid-parameter'],
  [-1, 2207073, READ, 'invalid-parameter'],
  [-1, 2207073, { method: 'DELETE' }, 'invalid-parameter'],
  // bad media: subcodes whatever the code, and the codes alone
  [9004, 2207052, READ, 'bad-media', 'media-fetch-failed'],
  [9004, undefined, READ, 'bad-media', 'media-fetch-failed'],
  [352, 2207026, READ, 'bad-media', 'video-format'],
  [352, undefined, READ, 'bad-media', 'video-format'],
  [36000, 2207004, READ, 'bad-media', 'image-too-large'],
  [36000, undefined, READ, 'bad-media', 'image-too-large'],
  [36001, 2207005, READ, 'bad-media', 'image-format'],
  [36001, undefined, READ, 'bad-media', 'image-format'],
  [36003, 2207009, READ, 'bad-media', 'aspect-ratio'],
  [36003, undefined, READ, 'bad-media', 'aspect-ratio'],
  [36004, 2207010, READ, 'bad-media', 'caption-too-long'],
  [36004, undefined, READ, 'bad-media', 'caption-too-long'],
  [100, 2207040, READ, 'bad-media', 'too-many-tags'],
  [1, 2207057, READ, 'bad-media', 'thumb-offset'],
  [1, 2207057, WRITE, 'bad-media', 'thumb-offset'],
  [324, undefined, READ, 'bad-media', 'photo-invalid'],
  [324, undefined, WRITE, 'bad-media', 'photo-invalid'],
  // an Instagram subcode means the same whatever code carries it
  [100, 2207001, READ, 'transient'],
  [100, 2207032, READ, 'transient'],
  [100, 2207003, READ, 'transient'],
  [100, 2207042, READ, 'publish-quota'],
  [100, 2207052, READ, 'bad-media', 'media-fetch-failed'],
  [100, 2207026, READ, 'bad-media', 'video-format'],
  [100, 2207004, READ, 'bad-media', 'image-too-large'],
  [100, 2207005, READ, 'bad-media', 'image-format'],
  [100, 2207009, READ, 'bad-media', 'aspect-ratio'],
  [100, 2207010, READ, 'bad-media', 'caption-too-long'],
  [100, 2207050, READ, 'account-restricted'],
  [100, 2207053, READ, 'container-expired'],
  // restrictions, policy, duplicates
  [4, 2207051, READ, 'account-restricted'],
  [25, 2207050, READ, 'account-restricted'],
  [25, undefined, READ, 'account-restricted'],
  [25, 2207050, WRITE, 'account-restricted'],
  [368, undefined, READ, 'policy-block'],
  [506, undefined, WRITE, 'duplicate'],
  [12345, undefined, READ, 'unknown'],
  [undefined, undefined, READ, 'unknown'],
  // a write answered with what Meta has answered for writes it applied: reconcile, never retry blindly
  [4, 2207051, WRITE, 'ambiguous'],
  [1, 2207051, WRITE, 'ambiguous'],
  [4, 2207051, { method: 'DELETE' }, 'ambiguous'],
  [1, undefined, WRITE, 'ambiguous'],
  [2, undefined, WRITE, 'ambiguous'],
  [2, undefined, { method: 'DELETE' }, 'ambiguous'],
  [2, undefined, { method: 'POST', httpStatus: 500 }, 'ambiguous'],
  [12345, undefined, { method: 'POST', httpStatus: 500 }, 'ambiguous'],
  [100, undefined, { method: 'POST', httpStatus: 503 }, 'ambiguous'],
  [undefined, undefined, { method: 'POST', httpStatus: 502 }, 'ambiguous'],
  [12345, undefined, { method: 'POST', httpStatus: 499 }, 'unknown'],
  [2, undefined, { method: null }, 'transient'],
];

describe('classifyGraphError over the reference table', () => {
  for (const [code, subcode, call, kind, rule] of TABLE) {
    it(`${code ?? '-'}/${subcode ?? '-'} ${call.method === null ? 'no request' : (call.method ?? 'GET')}${call.httpStatus ? ` HTTP ${call.httpStatus}` : ''} -> ${kind}`, () => {
      expect(classifyGraphError(metaError(code, subcode, call))).toStrictEqual(expected(kind, rule === undefined ? {} : { rule }));
    });
  }

  it('lets codes win over is_transient: Meta flags rate limits as transient, but they must wait, not retry', () => {
    expect(classifyGraphError(metaError(4, undefined, { isTransient: true }))).toStrictEqual(expected('rate-limited'));
    expect(classifyGraphError(metaError(80002, undefined, { isTransient: true }))).toStrictEqual(expected('rate-limited'));
    expect(classifyGraphError(metaError(100, undefined, { isTransient: true }))).toStrictEqual(expected('invalid-parameter'));
  });

  it('falls back to transient for unknown codes flagged transient or answered with 5xx on a read, else unknown', () => {
    expect(classifyGraphError(metaError(777, undefined, { isTransient: true }))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(metaError(777, undefined, { httpStatus: 500 }))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(metaError(777, undefined, { httpStatus: 503 }))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(metaError(777, undefined, { httpStatus: 499 }))).toStrictEqual(expected('unknown'));
    expect(classifyGraphError(metaError(777))).toStrictEqual(expected('unknown'));
    expect(classifyGraphError(metaError(undefined, undefined, { httpStatus: 502 }))).toStrictEqual(expected('transient'));
  });

  it('carries the usage-header wait on rate limits only', () => {
    const limited = metaError(80002);
    limited.retryAfterMs = 120_000;
    expect(classifyGraphError(limited)).toStrictEqual(expected('rate-limited', { retryAfterMs: 120_000 }));
    for (const [code, subcode, kind] of [
      [2, undefined, 'transient'],
      [9, 2207042, 'publish-quota'],
      [368, undefined, 'policy-block'],
      [36001, 2207005, 'bad-media'],
    ] as const) {
      const error = metaError(code, subcode);
      error.retryAfterMs = 60_000;
      expect(classifyGraphError(error)).toStrictEqual(expected(kind, kind === 'bad-media' ? { rule: 'image-format' } : {}));
    }
    expect(classifyGraphError(metaError(4))).not.toHaveProperty('retryAfterMs');
  });

  it("shows Meta's own user message for invalid parameters and unknown errors, never for the other classes", () => {
    expect(classifyGraphError(metaError(100, undefined, { userMsg: 'The location does not exist.' }))).toEqual(
      expected('invalid-parameter', { userMessage: 'The location does not exist.' }),
    );
    expect(classifyGraphError(metaError(777, undefined, { userMsg: 'Something odd.' }))).toStrictEqual(expected('unknown', { userMessage: 'Something odd.' }));
    expect(classifyGraphError(metaError(190, 460, { userMsg: 'Please log in again.' }))).toStrictEqual(expected('token-invalid'));
    expect(classifyGraphError(metaError(36001, 2207005, { userMsg: 'Bad format.' }))).toStrictEqual(expected('bad-media', { rule: 'image-format' }));
    expect(classifyGraphError(metaError(2, undefined, { userMsg: 'Try later.' }))).toStrictEqual(expected('transient'));
  });

  it("classifies Instagram Login's OAuth errors: 5xx transient, anything else a refusal with Meta's message", () => {
    const oauth = (httpStatus: number, userMessage?: string) =>
      new GraphApiError(
        {
          httpStatus,
          code: httpStatus,
          subcode: undefined,
          type: 'OAuthException',
          message: 'This authorization code has been used',
          userTitle: undefined,
          userMessage,
          isTransient: false,
          fbtraceId: undefined,
          source: 'instagram-oauth',
        },
        { method: 'POST', path: '/oauth/access_token' },
      );
    expect(classifyGraphError(oauth(500))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(oauth(503, 'Later.'))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(oauth(499))).toStrictEqual(expected('invalid-parameter'));
    expect(classifyGraphError(oauth(400))).toStrictEqual(expected('invalid-parameter'));
    expect(classifyGraphError(oauth(400, 'The code was used.'))).toStrictEqual(expected('invalid-parameter', { userMessage: 'The code was used.' }));
    // Code 190 would be a token error on Graph; on Instagram Login's OAuth endpoint it is only a refused exchange.
    const withCode = oauth(400);
    expect(classifyGraphError(new GraphApiError({ ...withCode, message: withCode.metaMessage, code: 190 }))).toStrictEqual(expected('invalid-parameter'));
  });

  it('classifies network errors: unsent or GET -> transient; a sent write -> ambiguous (reconcile first)', () => {
    const cause = new Error('socket hang up');
    expect(classifyGraphError(new GraphNetworkError({ method: 'GET', path: '/x', timedOut: true, requestSent: true, cause }))).toStrictEqual(expected('transient'));
    expect(classifyGraphError(new GraphNetworkError({ method: 'POST', path: '/x', timedOut: false, requestSent: false, cause }))).toStrictEqual(expected('transient'));
    const dropped = new GraphNetworkError({ method: 'POST', path: '/x', timedOut: false, requestSent: true, cause });
    expect(dropped.ambiguous).toBe(true);
    expect(classifyGraphError(dropped)).toStrictEqual(expected('ambiguous'));
    expect(classifyGraphError(new GraphNetworkError({ method: 'DELETE', path: '/x', timedOut: true, requestSent: true, cause }))).toStrictEqual(expected('ambiguous'));
  });

  it('treats unexpected answers and foreign errors as unknown', () => {
    expect(classifyGraphError(new GraphResponseError({ method: 'POST', path: '/x', httpStatus: 200, issues: ['id: required'] }))).toStrictEqual(expected('unknown'));
    expect(classifyGraphError(new Error('boom'))).toStrictEqual(expected('unknown'));
    // A foreign error that happens to carry Meta-like fields is still not Meta's answer.
    expect(classifyGraphError(Object.assign(new Error('pg'), { code: 190, subcode: 460, isTransient: true, httpStatus: 500 }))).toStrictEqual(expected('unknown'));
    expect(classifyGraphError('nope')).toStrictEqual(expected('unknown'));
  });
});

describe('classifyCodes', () => {
  it('classifies from the codes alone; a write only when told so', () => {
    expect(classifyCodes({ code: 2 })).toEqual({ class: 'transient' });
    expect(classifyCodes({ code: 2, write: true })).toEqual({ class: 'ambiguous' });
    expect(classifyCodes({ code: 2, write: false })).toEqual({ class: 'transient' });
    expect(classifyCodes({ code: 4, subcode: 2207051, write: true })).toEqual({ class: 'ambiguous' });
    expect(classifyCodes({ code: 4, subcode: 2207051 })).toEqual({ class: 'account-restricted' });
    expect(classifyCodes({ code: undefined, httpStatus: 500, write: true })).toEqual({ class: 'ambiguous' });
    expect(classifyCodes({ code: undefined, httpStatus: 500 })).toEqual({ class: 'transient' });
    expect(classifyCodes({ code: undefined, isTransient: true })).toEqual({ class: 'transient' });
    expect(classifyCodes({ code: undefined })).toEqual({ class: 'unknown' });
    expect(classifyCodes({ code: 36003, subcode: 2207009 })).toEqual({ class: 'bad-media', rule: 'aspect-ratio' });
    expect(classifyCodes({ code: 100, subcode: 33 })).toEqual({ class: 'transient' });
    expect(classifyCodes({ code: 100, subcode: 33, write: true })).toEqual({ class: 'invalid-parameter' });
  });
});

describe('parseErrorBody', () => {
  it('reads every field of a Graph error', () => {
    const fields = parseErrorBody(400, {
      error: {
        message: 'Error validating access token: The user has not authorized application.',
        type: 'OAuthException',
        code: 190,
        error_subcode: 458,
        error_user_title: 'Title',
        error_user_msg: 'User message',
        is_transient: false,
        fbtrace_id: 'A1b2',
      },
    });
    expect(fields).toEqual({
      httpStatus: 400,
      code: 190,
      subcode: 458,
      type: 'OAuthException',
      message: 'Error validating access token: The user has not authorized application.',
      userTitle: 'Title',
      userMessage: 'User message',
      isTransient: false,
      fbtraceId: 'A1b2',
      source: 'graph',
    });
  });

  it("reads Instagram Login's {error_type, code, error_message} and classifies it as a non-retryable OAuth failure", () => {
    const fields = parseErrorBody(400, { error_type: 'OAuthException', code: 400, error_message: 'This authorization code has been used' });
    expect(fields).toMatchObject({ source: 'instagram-oauth', code: 400, type: 'OAuthException', message: 'This authorization code has been used' });
    expect(classifyGraphError(new GraphApiError(fields ?? expect.fail('no fields'))).class).toBe('invalid-parameter');
  });

  it("reads rupload's debug_info, and a bare HTTP failure", () => {
    expect(parseErrorBody(400, { debug_info: { retriable: true, type: 'ProcessingFailed', message: 'try again' } })).toMatchObject({ source: 'rupload', isTransient: true, message: 'try again' });
    expect(parseErrorBody(502, undefined)).toMatchObject({ source: 'http', isTransient: true, code: undefined });
    expect(parseErrorBody(200, { id: '1' })).toBeUndefined();
  });

  it('puts codes and a redacted path in the message', () => {
    const error = metaError(190, 460);
    expect(error.message).toBe('Meta error 190/460: (#190) test (GET /v25.0/me)');
    expect(error).toMatchObject({ code: 190, subcode: 460, fbtraceId: 'AbCdEf', type: 'OAuthException', isTransient: false });
  });
});
