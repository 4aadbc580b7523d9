import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import { Uuid } from '../primitives.ts';

export const postInsightsRefreshRequested = defineEvent({
  type: 'post.insights-refresh-requested',
  summary:
    "A user asked for a post's insights now, outside the sync schedule. Analytics honours it at most once per post per " +
    'cooldown (configured); a request inside the cooldown is dropped, as is one for a post it does not track.',
  data: z.object({
    postId: Uuid,
    socialAccountId: Uuid.describe('Key: the account that published the post (from the analytics read API)'),
  }),
  subject: (data) => data.postId,
});

export const analyticsRequests = defineTopic({
  name: 'postwire.analytics-requests.v1',
  id: 'analyticsRequestsV1',
  title: 'Analytics requests',
  description: 'Commands to the analytics service, accepted by the gateway on behalf of a user; keyed by social account.',
  kind: 'request',
  producer: 'gateway',
  consumers: ['analytics'],
  events: [postInsightsRefreshRequested],
});
