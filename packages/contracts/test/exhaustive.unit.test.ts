import { randomUUID } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type AccountEvent, type PostEvent, type PostType, assertNever } from '../src/index.ts';

// A handler in the style every service uses: the switch must name every type of the topic.
function describePostEvent(event: PostEvent): string {
  switch (event.type) {
    case 'post.accepted':
      return `accepted ${event.data.requestType}`;
    case 'post.rejected':
      return `rejected: ${event.data.violations.map((violation) => violation.code).join(',')}`;
    case 'post.publishing':
      return `publishing, attempt ${event.data.attempt}`;
    case 'post.published':
      return `published as ${event.data.platformPostId}`;
    case 'post.retrying':
      return `retrying at ${event.data.nextAttemptAt}`;
    case 'post.failed':
      return `failed: ${event.data.error.category}`;
    case 'post.deleted':
      return `deleted (${event.data.reason})`;
    case 'post.metrics-updated':
      return `metrics: ${event.data.metrics.likes} likes`;
    default:
      return assertNever(event);
  }
}

function incompleteAccountHandler(event: AccountEvent): string {
  switch (event.type) {
    case 'account.connected':
    case 'account.updated':
    case 'account.token-refreshed':
    case 'token.expiring':
    case 'account.expired':
    case 'account.disconnected':
      return event.type;
    default:
      // @ts-expect-error: account.connection-failed is not handled, so `event` is not `never` here
      return assertNever(event);
  }
}

describe('topic unions are discriminated on type', () => {
  it('narrows data by type in a switch checked for completeness', () => {
    const event: PostEvent = {
      type: 'post.deleted',
      data: {
        postId: randomUUID(),
        socialAccountId: randomUUID(),
        platform: 'facebook',
        reason: 'account-deleted',
        deletedFromPlatform: false,
        deletedAt: new Date().toISOString(),
      },
    };
    expect(describePostEvent(event)).toBe('deleted (account-deleted)');
    expectTypeOf<Extract<PostEvent, { type: 'post.published' }>['data']['postType']>().toEqualTypeOf<PostType>();
  });

  it('throws at run time for a type the compiler did not know about', () => {
    const stray = { type: 'account.connection-failed' } as AccountEvent;
    expect(() => incompleteAccountHandler(stray)).toThrow('unhandled event type: account.connection-failed');
  });
});
