import type { TopicContract } from './define.ts';
import { accountEvents } from './topics/account-events.ts';
import { accountRequests } from './topics/account-requests.ts';
import { analyticsEvents } from './topics/analytics-events.ts';
import { analyticsRequests } from './topics/analytics-requests.ts';
import { postEvents } from './topics/post-events.ts';
import { postRequests } from './topics/post-requests.ts';

export const CATALOGUE = [accountRequests, accountEvents, postRequests, postEvents, analyticsEvents, analyticsRequests] as const;

export type CatalogueTopic = (typeof CATALOGUE)[number];

/** Where a consumer parks a message it cannot process; one per topic so each keeps its own order. */
export function deadLetterTopicName(topic: string): string {
  return `${topic}.dlq`;
}

export function topicByName(name: string): TopicContract | undefined {
  return CATALOGUE.find((topic) => topic.name === name);
}
