import { loadConfig } from '@postwire/config';
import { describe, expect, it } from 'vitest';
import {
  GraphApiError,
  GraphNetworkError,
  GraphResponseError,
  classifyGraphError,
  graphEnvironment,
  graphErrorFromOAuthFailure,
  instagramCodeGrantFromAnswer,
  oauthEndpoints,
  tokenGrantFromAnswer,
} from '../src/index.ts';

const where = { method: 'POST', path: '/v25.0/oauth/access_token' };

/** The error simple-oauth2 (through @hapi/wreck) throws for a non-2xx answer: a Boom error carrying the payload. */
function boom(statusCode: number, payload: unknown) {
  return Object.assign(new Error(`Response Error: ${statusCode}`), { isBoom: true, output: { statusCode }, data: { isResponseError: true, res: { statusCode }, payload } });
}

describe('OAuth endpoints for standard clients', () => {
  it('point at the sandbox by default and at Meta once real credentials are set, with the pinned version', () => {
    const sandbox = loadConfig(graphEnvironment, {});
    expect(oauthEndpoints(sandbox, 'facebook')).toEqual({
      authorizeHost: 'http://127.0.0.1:4010',
      authorizePath: '/v25.0/dialog/oauth',
      tokenHost: 'http://127.0.0.1:4010',
      tokenPath: '/v25.0/oauth/access_token',
    });
    const meta = loadConfig(graphEnvironment, { META_APP_ID: '123456789', META_APP_SECRET: 'a-real-secret-value', META_GRAPH_VERSION: 'v27.0' });
    expect(oauthEndpoints(meta, 'facebook')).toEqual({
      authorizeHost: 'https://www.facebook.com',
      authorizePath: '/v27.0/dialog/oauth',
      tokenHost: 'https://graph.facebook.com',
      tokenPath: '/v27.0/oauth/access_token',
    });
    expect(oauthEndpoints(meta, 'instagram')).toEqual({
      authorizeHost: 'https://www.instagram.com',
      authorizePath: '/oauth/authorize',
      tokenHost: 'https://api.instagram.com',
      tokenPath: '/oauth/access_token',
    });
  });
});

describe('reading token answers', () => {
  it("reads Facebook Login's answer and refuses one without a token", () => {
    expect(tokenGrantFromAnswer({ access_token: 'EAAU1', token_type: 'bearer', expires_in: 5_183_944 }, where)).toEqual({
      accessToken: 'EAAU1',
      tokenType: 'bearer',
      expiresIn: 5_183_944,
    });
    expect(() => tokenGrantFromAnswer({ token_type: 'bearer' }, where)).toThrow(GraphResponseError);
  });

  it("reads Instagram Login's documented and flat answers", () => {
    expect(instagramCodeGrantFromAnswer({ data: [{ access_token: 'IGAA1', user_id: '17841400000000301', permissions: 'a,b' }] }, where)).toEqual({
      accessToken: 'IGAA1',
      userId: '17841400000000301',
      permissions: ['a', 'b'],
    });
    expect(instagramCodeGrantFromAnswer({ access_token: 'IGAA2', user_id: 42, permissions: ['c'] }, where)).toEqual({ accessToken: 'IGAA2', userId: '42', permissions: ['c'] });
    expect(instagramCodeGrantFromAnswer({ access_token: 'IGAA3', user_id: '7' }, where)).toEqual({ accessToken: 'IGAA3', userId: '7', permissions: [] });
  });

  it('leaves out a user id that a generic JSON parser has already rounded', () => {
    // What JSON.parse makes of Meta's `"user_id": 17841400000000301`.
    const rounded = JSON.parse('{"data":[{"access_token":"IGAA1","user_id":17841400000000301,"permissions":""}]}') as unknown;
    expect(instagramCodeGrantFromAnswer(rounded, where)).toEqual({
      accessToken: 'IGAA1',
      userId: undefined,
      permissions: [],
    });
    expect(() => instagramCodeGrantFromAnswer({ data: [] }, where)).toThrow(GraphResponseError);
  });
});

describe('errors of a token request made through simple-oauth2', () => {
  it("turns Meta's Graph error into a classified GraphApiError", () => {
    const error = graphErrorFromOAuthFailure(boom(400, { error: { message: 'This authorization code has been used.', type: 'OAuthException', code: 100, error_subcode: 36009 } }), where);
    expect(error).toBeInstanceOf(GraphApiError);
    expect(error).toMatchObject({ code: 100, subcode: 36009, httpStatus: 400, method: 'POST', source: 'graph' });
    expect(classifyGraphError(error).class).toBe('invalid-parameter');
  });

  it("reads Instagram Login's error shape, and a payload left as bytes", () => {
    const shaped = graphErrorFromOAuthFailure(boom(400, { error_type: 'OAuthException', code: 400, error_message: 'Invalid platform app' }), where);
    expect(shaped).toMatchObject({ source: 'instagram-oauth', metaMessage: 'Invalid platform app' });
    const bytes = graphErrorFromOAuthFailure(boom(500, Buffer.from('{"error":{"message":"x","code":2,"is_transient":true}}')), where);
    expect(bytes).toMatchObject({ code: 2, httpStatus: 500 });
    expect(classifyGraphError(bytes).class).toBe('ambiguous');
    expect(graphErrorFromOAuthFailure(boom(502, Buffer.from('<html>bad gateway</html>')), where)).toMatchObject({ source: 'http', httpStatus: 502 });
  });

  it('makes a request without an answer a network error: a sent write, so ambiguous', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { isBoom: true, output: { statusCode: 502 }, data: null });
    const error = graphErrorFromOAuthFailure(refused, where);
    expect(error).toBeInstanceOf(GraphNetworkError);
    expect(error).toMatchObject({ method: 'POST', requestSent: true, ambiguous: true });
    expect(graphErrorFromOAuthFailure('not even an error', where)).toBeInstanceOf(GraphNetworkError);
  });
});
