import type { PostStatus } from '@postwire/contracts';

/**
 * The post state machine. The seed's statuses, and what moves a post between them:
 *
 *   draft --schedule--> queued --claim--> processing --published--> published --delete--> deleted
 *     ^                   |  ^                |   |
 *     +-----cancel--------+  +----(retry)-----+   +--failed--> failed --retry--> queued
 *
 * A post waiting for a container, a video or a retry's backoff stays `processing`: it is being
 * published, so it can no longer be changed, cancelled or deleted (that would race the platform call).
 */
export type PostCommand =
  | 'update'
  | 'schedule'
  | 'unschedule'
  | 'publish-now'
  | 'cancel'
  | 'delete'
  | 'retry'
  | 'claim'
  | 'mark-published'
  | 'mark-failed';

const ALLOWED: Readonly<Record<PostCommand, readonly PostStatus[]>> = {
  update: ['draft', 'queued'],
  schedule: ['draft', 'queued'],
  unschedule: ['queued'],
  'publish-now': ['draft', 'queued'],
  cancel: ['queued'],
  delete: ['draft', 'queued', 'published', 'failed'],
  retry: ['failed'],
  claim: ['queued', 'processing'],
  'mark-published': ['processing'],
  // Queued posts fail without being claimed when their account goes or their window passes.
  'mark-failed': ['queued', 'processing'],
};

const TARGET: Readonly<Record<PostCommand, PostStatus | 'unchanged'>> = {
  update: 'unchanged',
  schedule: 'queued',
  unschedule: 'draft',
  'publish-now': 'queued',
  cancel: 'draft',
  delete: 'deleted',
  retry: 'queued',
  claim: 'processing',
  'mark-published': 'published',
  'mark-failed': 'failed',
};

export type Transition =
  | { readonly allowed: true; readonly to: PostStatus }
  | { readonly allowed: false; readonly code: 'post-not-changeable'; readonly message: string };

export function transition(from: PostStatus, command: PostCommand): Transition {
  if (!ALLOWED[command].includes(from)) {
    return { allowed: false, code: 'post-not-changeable', message: refusal(from, command) };
  }
  const target = TARGET[command];
  return { allowed: true, to: target === 'unchanged' ? from : target };
}

export function canApply(from: PostStatus, command: PostCommand): boolean {
  return ALLOWED[command].includes(from);
}

function refusal(from: PostStatus, command: PostCommand): string {
  switch (from) {
    case 'processing':
      return `the post is being published and can no longer ${verb(command)}`;
    case 'published':
      return `the post is already published and cannot ${verb(command)}`;
    case 'deleted':
      return 'the post is deleted';
    case 'failed':
      return `the post failed; retry it before it can ${verb(command)}`;
    case 'draft':
      return `a draft cannot ${verb(command)}; schedule or publish it first`;
    case 'queued':
      return `a queued post cannot ${verb(command)}`;
  }
}

function verb(command: PostCommand): string {
  switch (command) {
    case 'update':
      return 'be changed';
    case 'schedule':
    case 'unschedule':
      return 'be rescheduled';
    case 'publish-now':
      return 'be published now';
    case 'cancel':
      return 'be cancelled';
    case 'delete':
      return 'be deleted';
    case 'retry':
      return 'be retried';
    case 'claim':
      return 'be published';
    case 'mark-published':
      return 'be marked published';
    case 'mark-failed':
      return 'be marked failed';
  }
}
