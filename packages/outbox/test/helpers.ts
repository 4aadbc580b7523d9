import { randomUUID } from 'node:crypto';
import { defineTopic, postEvents } from '@postwire/contracts';
import { type DatabasePool, sql } from '@postwire/db';
import { testTopic, uniqueName } from '@postwire/testing';
import { pino } from 'pino';

export const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The post-events contract under a topic name no other test uses. */
export function testPostTopic() {
  return defineTopic({ ...postEvents, name: `${uniqueName(testTopic('post-events'))}.v1`, events: postEvents.events });
}
export type TestTopic = ReturnType<typeof testPostTopic>;

/** A post.published whose platformPostId carries the per-account sequence number. */
export function published(socialAccountId: string, sequence: number, organisationId = randomUUID()) {
  return {
    type: 'post.published' as const,
    data: {
      postId: randomUUID(),
      socialAccountId,
      platform: 'facebook' as const,
      postType: 'feed' as const,
      contentId: null,
      platformPostId: `seq-${sequence}`,
      platformUrl: null,
      mediaCount: 1,
      publishedAt: new Date().toISOString(),
    },
    metadata: { organisationId },
  };
}

export function sequenceOf(platformPostId: string): number {
  return Number(platformPostId.replace('seq-', ''));
}

/** A table standing in for a handler's effects, writable by the publisher's worker role. */
export async function createEffectsTable(admin: DatabasePool): Promise<void> {
  await admin.query(sql.unsafe`
    CREATE TABLE publisher.test_effects (
      applied_order BIGSERIAL PRIMARY KEY,
      event_id UUID NOT NULL,
      account_id UUID NOT NULL,
      sequence INTEGER NOT NULL,
      member TEXT NOT NULL
    )
  `);
  await admin.query(sql.unsafe`GRANT SELECT, INSERT, DELETE ON publisher.test_effects TO publisher_worker`);
  await admin.query(sql.unsafe`GRANT USAGE ON SEQUENCE publisher.test_effects_applied_order_seq TO publisher_worker`);
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
