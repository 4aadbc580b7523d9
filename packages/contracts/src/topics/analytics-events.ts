import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import { Platform, PostMetrics, PostType, Timestamp, Uuid } from '../primitives.ts';

export const postMetricsSynced = defineEvent({
  type: 'post.metrics-synced',
  summary: "Analytics read the post's insights from the platform and stored a snapshot.",
  data: z.object({
    postId: Uuid,
    socialAccountId: Uuid,
    platform: Platform,
    postType: PostType,
    platformPostId: z.string().min(1),
    snapshotId: Uuid,
    metrics: PostMetrics,
    engagementRate: z.number().min(0).max(999.99).nullable(),
    hoursSincePublished: z.int().nonnegative().nullable(),
    snapshotAt: Timestamp,
  }),
  subject: (data) => data.postId,
});

export const analyticsEvents = defineTopic({
  name: 'postwire.analytics-events.v1',
  id: 'analyticsEventsV1',
  title: 'Analytics events',
  description: 'Facts from the analytics service; keyed by social account like the post topics.',
  kind: 'fact',
  producer: 'analytics',
  consumers: ['publisher'],
  events: [postMetricsSynced],
});
