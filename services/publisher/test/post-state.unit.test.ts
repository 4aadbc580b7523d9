import { describe, expect, it } from 'vitest';
import type { PostStatus } from '@postwire/contracts';
import { type PostCommand, canApply, transition } from '../src/domain/post-state.ts';

const STATUSES: readonly PostStatus[] = ['draft', 'queued', 'processing', 'published', 'failed', 'deleted'];

/** Every allowed (from, command) pair and where it leads; everything else is refused. */
const ALLOWED: Readonly<Record<PostCommand, Partial<Record<PostStatus, PostStatus>>>> = {
  update: { draft: 'draft', queued: 'queued' },
  schedule: { draft: 'queued', queued: 'queued' },
  unschedule: { queued: 'draft' },
  'publish-now': { draft: 'queued', queued: 'queued' },
  cancel: { queued: 'draft' },
  delete: { draft: 'deleted', queued: 'deleted', published: 'deleted', failed: 'deleted' },
  retry: { failed: 'queued' },
  claim: { queued: 'processing', processing: 'processing' },
  'mark-published': { processing: 'published' },
  'mark-failed': { queued: 'failed', processing: 'failed' },
};

describe('post state machine', () => {
  for (const [command, targets] of Object.entries(ALLOWED) as [PostCommand, Partial<Record<PostStatus, PostStatus>>][]) {
    for (const from of STATUSES) {
      const to = targets[from];
      it(`${command} from ${from}: ${to === undefined ? 'refused' : `-> ${to}`}`, () => {
        expect(canApply(from, command)).toBe(to !== undefined);
        const result = transition(from, command);
        if (to === undefined) expect(result).toMatchObject({ allowed: false, code: 'post-not-changeable' });
        else expect(result).toEqual({ allowed: true, to });
      });
    }
  }

  it('says why a change is refused, in words a user reads', () => {
    const message = (from: PostStatus, command: PostCommand) => {
      const result = transition(from, command);
      return result.allowed ? undefined : result.message;
    };
    expect(message('processing', 'update')).toBe('the post is being published and can no longer be changed');
    expect(message('processing', 'cancel')).toBe('the post is being published and can no longer be cancelled');
    expect(message('processing', 'delete')).toBe('the post is being published and can no longer be deleted');
    expect(message('processing', 'schedule')).toBe('the post is being published and can no longer be rescheduled');
    expect(message('processing', 'unschedule')).toBe('the post is being published and can no longer be rescheduled');
    expect(message('processing', 'publish-now')).toBe('the post is being published and can no longer be published now');
    expect(message('processing', 'retry')).toBe('the post is being published and can no longer be retried');
    expect(message('published', 'update')).toBe('the post is already published and cannot be changed');
    expect(message('published', 'claim')).toBe('the post is already published and cannot be published');
    expect(message('published', 'mark-published')).toBe('the post is already published and cannot be marked published');
    expect(message('published', 'mark-failed')).toBe('the post is already published and cannot be marked failed');
    expect(message('deleted', 'update')).toBe('the post is deleted');
    expect(message('failed', 'update')).toBe('the post failed; retry it before it can be changed');
    expect(message('draft', 'cancel')).toBe('a draft cannot be cancelled; schedule or publish it first');
    expect(message('queued', 'retry')).toBe('a queued post cannot be retried');
  });
});
