import { describe, expect, it } from 'vitest';
import { budgetKey, classOfRoute, policyField, remainingField, retryAfterSeconds } from '../src/domain/rate-limits.ts';

describe('route classes', () => {
  it('sorts the API routes into reads, writes, live events, webhooks admin and connect', () => {
    expect(classOfRoute('GET', '/v1/posts')).toBe('reads');
    expect(classOfRoute('HEAD', '/v1/posts/:postId')).toBe('reads');
    expect(classOfRoute('GET', '/v1/me')).toBe('reads');
    expect(classOfRoute('POST', '/v1/posts')).toBe('writes');
    expect(classOfRoute('PATCH', '/v1/posts/:postId')).toBe('writes');
    expect(classOfRoute('PUT', '/v1/posts/:postId')).toBe('writes');
    expect(classOfRoute('DELETE', '/v1/accounts/:accountId')).toBe('writes');
    expect(classOfRoute('GET', '/v1/events')).toBe('events');
    expect(classOfRoute('GET', '/v1/webhooks')).toBe('webhooks');
    expect(classOfRoute('POST', '/v1/webhooks')).toBe('webhooks');
    expect(classOfRoute('GET', '/v1/webhooks/:endpointId/deliveries')).toBe('webhooks');
    expect(classOfRoute('GET', '/v1/connect/:provider/start')).toBe('connect');
    expect(classOfRoute('GET', '/v1/connect/:provider/callback')).toBe('connect');
  });

  it('gives the documents and the API reference a class of their own, and nothing to preflights and health probes', () => {
    for (const url of ['/openapi.json', '/asyncapi.json', '/docs', '/docs/', '/docs/static/index.css']) expect(classOfRoute('GET', url), url).toBe('docs');
    expect(classOfRoute('OPTIONS', '/v1/posts')).toBeUndefined();
    expect(classOfRoute('OPTIONS', '*')).toBeUndefined();
    for (const url of ['/healthz', '/readyz', '/metrics', '/documents', '/v1']) expect(classOfRoute('GET', url), url).toBeUndefined();
    // A look-alike of a class's path is an ordinary resource.
    expect(classOfRoute('GET', '/v1/eventsx')).toBe('reads');
    expect(classOfRoute('POST', '/v1/webhooksx')).toBe('writes');
    expect(classOfRoute('GET', '/v1/connectx')).toBe('reads');
  });

  it("spends the verified organisation's budget, or the address's when there is no caller", () => {
    expect(budgetKey('reads', 'org-1', '198.51.100.7')).toBe('reads:org:org-1');
    expect(budgetKey('connect', undefined, '198.51.100.7')).toBe('connect:ip:198.51.100.7');
    expect(budgetKey('reads', 'org-1', '1')).not.toBe(budgetKey('writes', 'org-1', '1'));
  });
});

describe('the RateLimit fields', () => {
  it('states a policy as a quoted name with its quota and window in seconds', () => {
    expect(policyField('reads', { max: 1200, windowMs: 60_000 })).toBe('"reads";q=1200;w=60');
    expect(policyField('writes', { max: 5, windowMs: 1_500 })).toBe('"writes";q=5;w=2');
    expect(policyField('docs', { max: 5, windowMs: 400 })).toBe('"docs";q=5;w=1');
  });

  it('states what is left and the seconds until the window ends, rounded up, never below zero', () => {
    expect(remainingField('reads', 1187, 41_200)).toBe('"reads";r=1187;t=42');
    expect(remainingField('reads', 3, 42_000)).toBe('"reads";r=3;t=42');
    expect(remainingField('writes', -4, 0)).toBe('"writes";r=0;t=0');
    expect(remainingField('writes', 0, -20)).toBe('"writes";r=0;t=0');
  });

  it('tells a refused client to wait until its window ends, at least a second', () => {
    expect(retryAfterSeconds(41_001)).toBe(42);
    expect(retryAfterSeconds(2_000)).toBe(2);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(-5)).toBe(1);
  });
});
