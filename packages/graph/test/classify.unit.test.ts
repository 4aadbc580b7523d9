import { describe, expect, it } from 'vitest';
import {
  CLASS_POLICY,
  GraphApiError,
  GraphNetworkError,
  GraphResponseError,
  classifyGraphError,
  parseErrorBody,
  type GraphErrorClass,
} from '../src/index.ts';

function metaError(code: number, subcode?: number, extra: { isTransient?: boolean; httpStatus?: number; userMsg?: string } = {}): GraphApiError {
  const fields = parseErrorBody(extra.httpStatus ?? 400, {
    error: {
      message: `(#${code}) test`,
      type: 'OAuthException',
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      ...(extra.userMsg === undefined ? {} : { error_user_msg: extra.userMsg }),
      is_transient: extra.isTransient ?? false,
      fbtrace_id: 'AbCdEf',
    },
  });
  if (!fields) throw new Error('no error parsed');
  return new GraphApiError(fields, { method: 'GET', path: '/v25.0/me' });
}

// Every row of the reference's §5 table, code by code, plus the ordering subtleties it implies.
const TABLE: readonly [code: number, subcode: number | undefined, expected: GraphErrorClass][] = [
  [1, undefined, 'transient'],
  [2, undefined, 'transient'],
  [-1, 2207001, 'transient'],
  [-1, 2207032, 'transient'],
  [-2, 2207003, 'transient'],
  [4, undefined, 'rate-limited'],
  [17, undefined, 'rate-limited'],
  [32, undefined, 'rate-limited'],
  [613, undefined, 'rate-limited'],
  [80001, undefined, 'rate-limited'],
  [80002, undefined, 'rate-limited'],
  [9007, 2207027, 'media-not-ready'],
  [24, 2207008, 'container-missing'],
  [-2, 2207020, 'container-expired'],
  [9, 2207042, 'publish-quota'],
  [190, undefined, 'token-invalid'],
  [190, 458, 'token-invalid'],
  [190, 460, 'token-invalid'],
  [190, 463, 'token-invalid'],
  [190, 467, 'token-invalid'],
  [190, 459, 'account-action-required'],
  [190, 464, 'account-action-required'],
  [10, undefined, 'permission-missing'],
  [200, undefined, 'permission-missing'],
  [250, undefined, 'permission-missing'],
  [299, undefined, 'permission-missing'],
  [492, undefined, 'page-role-lost'],
  [100, undefined, 'invalid-parameter'],
  [100, 33, 'invalid-parameter'],
  [100, 2207028, 'invalid-parameter'],
  [9004, 2207052, 'bad-media'],
  [352, 2207026, 'bad-media'],
  [36000, 2207004, 'bad-media'],
  [36001, 2207005, 'bad-media'],
  [36003, 2207009, 'bad-media'],
  [36004, 2207010, 'bad-media'],
  [100, 2207040, 'bad-media'],
  [1, 2207057, 'bad-media'],
  [4, 2207051, 'account-restricted'],
  [25, 2207050, 'account-restricted'],
  [368, undefined, 'policy-block'],
  [506, undefined, 'duplicate'],
  [-1, 2207073, 'invalid-parameter'],
  [12345, undefined, 'unknown'],
];

describe('classifyGraphError over the reference table', () => {
  it.each(TABLE)('%i/%s -> %s', (code, subcode, expected) => {
    const result = classifyGraphError(metaError(code, subcode));
    expect(result.class).toBe(expected);
    expect(result.retryable).toBe(CLASS_POLICY[expected].retryable);
    expect(result.userMessage.length).toBeGreaterThan(10);
  });

  it('lets codes win over is_transient: Meta flags rate limits as transient, but they must wait, not retry', () => {
    expect(classifyGraphError(metaError(4, undefined, { isTransient: true })).class).toBe('rate-limited');
    expect(classifyGraphError(metaError(80002, undefined, { isTransient: true })).class).toBe('rate-limited');
  });

  it('falls back to transient for unknown codes flagged transient or answered with 5xx, else unknown', () => {
    expect(classifyGraphError(metaError(777, undefined, { isTransient: true })).class).toBe('transient');
    expect(classifyGraphError(metaError(777, undefined, { httpStatus: 503 })).class).toBe('transient');
    expect(classifyGraphError(metaError(777)).class).toBe('unknown');
  });

  it('names the broken rule for bad media', () => {
    const rules = [
      [9004, 2207052, 'media-fetch-failed', /download/],
      [352, 2207026, 'video-format', /MP4/],
      [36000, 2207004, 'image-too-large', /8 MB/],
      [36001, 2207005, 'image-format', /JPEG/],
      [36003, 2207009, 'aspect-ratio', /4:5/],
      [36004, 2207010, 'caption-too-long', /2,200/],
      [100, 2207040, 'too-many-tags', /20/],
      [1, 2207057, 'thumb-offset', /thumb_offset/],
    ] as const;
    for (const [code, subcode, rule, message] of rules) {
      const result = classifyGraphError(metaError(code, subcode));
      expect(result, `${code}/${subcode}`).toMatchObject({ class: 'bad-media', rule, retryable: false, action: 'fail' });
      expect(result.userMessage).toMatch(message);
    }
  });

  it('says what to do per class: reconnect on token errors, poll on not-ready, new container on expiry', () => {
    expect(classifyGraphError(metaError(190, 460))).toMatchObject({ action: 'reconnect-account', accountProblem: true, retryable: false });
    expect(classifyGraphError(metaError(190, 459))).toMatchObject({ action: 'user-must-act-on-facebook', accountProblem: true });
    expect(classifyGraphError(metaError(9007, 2207027))).toMatchObject({ action: 'poll-container', retryable: true });
    expect(classifyGraphError(metaError(24, 2207008))).toMatchObject({ action: 'retry-then-new-container', retryable: true });
    expect(classifyGraphError(metaError(-2, 2207020))).toMatchObject({ action: 'new-container', retryable: false });
    expect(classifyGraphError(metaError(9, 2207042))).toMatchObject({ action: 'wait-for-quota' });
    expect(classifyGraphError(metaError(368))).toMatchObject({ action: 'back-off', retryable: true });
    expect(classifyGraphError(metaError(10))).toMatchObject({ action: 'request-permissions', accountProblem: true });
  });

  it('carries the usage-header wait on rate limits', () => {
    const error = metaError(80002);
    error.retryAfterMs = 120_000;
    expect(classifyGraphError(error)).toMatchObject({ class: 'rate-limited', retryAfterMs: 120_000, action: 'wait-for-usage' });
  });

  it("shows Meta's own user message for invalid parameters when there is one", () => {
    expect(classifyGraphError(metaError(100, undefined, { userMsg: 'The location does not exist.' })).userMessage).toBe('The location does not exist.');
  });

  it('classifies network errors: unsent or GET -> transient; a sent write -> ambiguous (reconcile first)', () => {
    const cause = new Error('socket hang up');
    expect(classifyGraphError(new GraphNetworkError({ method: 'GET', path: '/x', timedOut: true, requestSent: true, cause }))).toMatchObject({ class: 'transient', retryable: true });
    expect(classifyGraphError(new GraphNetworkError({ method: 'POST', path: '/x', timedOut: false, requestSent: false, cause }))).toMatchObject({ class: 'transient' });
    const ambiguous = new GraphNetworkError({ method: 'POST', path: '/x', timedOut: false, requestSent: true, cause });
    expect(ambiguous.ambiguous).toBe(true);
    expect(classifyGraphError(ambiguous)).toMatchObject({ class: 'ambiguous', retryable: false, action: 'reconcile-then-retry' });
    expect(new GraphNetworkError({ method: 'DELETE', path: '/x', timedOut: true, requestSent: true, cause }).ambiguous).toBe(true);
  });

  it('treats unexpected answers and foreign errors as unknown', () => {
    expect(classifyGraphError(new GraphResponseError({ method: 'GET', path: '/x', httpStatus: 200, issues: ['id: required'] })).class).toBe('unknown');
    expect(classifyGraphError(new Error('boom')).class).toBe('unknown');
    expect(classifyGraphError('nope').class).toBe('unknown');
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
