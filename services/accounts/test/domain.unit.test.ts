import { describe, expect, it } from 'vitest';
import { GraphApiError, GraphNetworkError } from '@postwire/graph';
import { capabilitiesOf, instagramAccountType } from '../src/domain/capabilities.ts';
import { ConnectionRefused, refusalOrRethrow } from '../src/domain/connection-failure.ts';
import { missingScopes, missingScopesMessage } from '../src/domain/scopes.ts';

const graphError = (code: number, subcode?: number, isTransient = false) =>
  new GraphApiError(
    {
      httpStatus: 400,
      code,
      subcode,
      type: 'OAuthException',
      message: 'Error validating access token: EAAUsecret',
      userTitle: undefined,
      userMessage: undefined,
      isTransient,
      fbtraceId: undefined,
      source: 'graph',
    },
    { method: 'GET', path: '/oauth/access_token' },
  );

describe('accounts domain rules', () => {
  it('stories only for Pages and Instagram business accounts; feed and reels for all', () => {
    expect(capabilitiesOf('page')).toEqual({ feed: true, stories: true, reels: true });
    expect(capabilitiesOf('business')).toEqual({ feed: true, stories: true, reels: true });
    expect(capabilitiesOf('creator')).toEqual({ feed: true, stories: false, reels: true });
  });

  it("reads Meta's account types; an unreported type of a Page-linked account is business", () => {
    expect(instagramAccountType('MEDIA_CREATOR')).toBe('creator');
    expect(instagramAccountType('CREATOR')).toBe('creator');
    expect(instagramAccountType('BUSINESS')).toBe('business');
    expect(instagramAccountType(undefined)).toBe('business');
  });

  it('names every missing scope; Facebook Login needs the Instagram publishing and Page posting sets', () => {
    expect(missingScopes('facebook', ['pages_show_list', 'instagram_basic'])).toEqual([
      'instagram_content_publish',
      'pages_read_engagement',
      'pages_manage_posts',
    ]);
    expect(missingScopes('facebook', ['instagram_basic', 'instagram_content_publish', 'pages_show_list', 'pages_read_engagement', 'pages_manage_posts'])).toEqual([]);
    expect(missingScopes('instagram', ['instagram_business_basic'])).toEqual(['instagram_business_content_publish']);
    expect(missingScopesMessage(['a', 'b'])).toContain('a, b');
  });

  it('a dead token becomes a refusal with a user message and no Meta text; transient failures are rethrown for a retry', () => {
    const refusal = refusalOrRethrow('token-exchange', graphError(190, 460));
    expect(refusal).toBeInstanceOf(ConnectionRefused);
    expect(refusal.stage).toBe('token-exchange');
    expect(refusal.info).toMatchObject({ category: 'token', code: 190, subcode: 460, retryable: false });
    expect(refusal.info.message).not.toContain('EAAU');
    expect(refusalOrRethrow('discovery', graphError(200)).info.category).toBe('permission');

    // Rethrown marked with the stage, the Graph error as the cause, so a connect given up later can say where.
    const rethrown = (stage: 'discovery' | 'token-exchange', error: unknown) => {
      try {
        refusalOrRethrow(stage, error);
      } catch (thrown) {
        return thrown;
      }
      throw new Error('not rethrown');
    };
    const transient = graphError(2, undefined, true);
    expect(rethrown('discovery', transient)).toMatchObject({ name: 'ConnectionStageError', stage: 'discovery', cause: transient });
    expect((rethrown('token-exchange', graphError(4)) as Error).cause).toBeInstanceOf(GraphApiError);
    const network = new GraphNetworkError({ method: 'GET', path: '/me/accounts', timedOut: true, requestSent: true, cause: new Error('timeout') });
    expect(rethrown('discovery', network)).toMatchObject({ stage: 'discovery', cause: network });
    const bug = new TypeError('not a Graph error');
    expect(() => refusalOrRethrow('discovery', bug)).toThrow(bug);
  });
});
