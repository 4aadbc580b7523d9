import type { FastifyBaseLogger } from 'fastify';
import type { FacebookFormat, MediaItem, Platform, PostType } from '@postwire/contracts';
import type { GraphClient } from '@postwire/graph';

/** A claimed post, as a platform flow needs it. */
export type PostToPublish = {
  readonly id: string;
  readonly organisationId: string;
  readonly socialAccountId: string;
  readonly platform: Platform;
  readonly postType: PostType;
  /** Facebook posts only (see FacebookFormat). */
  readonly facebookFormat: FacebookFormat | null;
  /** Caption with the hashtags appended (domain/caption.ts `finalCaption`). */
  readonly text: string | undefined;
  readonly media: readonly MediaItem[];
  readonly locationId: string | null;
  readonly shareToFeed: boolean;
  readonly linkUrl: string | null;
  readonly firstComment: string | null;
  readonly collaborators: readonly string[];
  readonly trialGraduation: 'MANUAL' | 'SS_PERFORMANCE' | null;
  readonly scheduledFor: Date | null;
  /** When this post's first publishing attempt began: reconciliation looks for media from here on. */
  readonly publishingSince: Date;
};

/** The account a post goes to, from the publisher's projection of account events. */
export type PublishAccount = {
  readonly socialAccountId: string;
  readonly platform: Platform;
  readonly accountType: 'business' | 'creator' | 'page';
  /** The IG user id, or the Page id. */
  readonly platformAccountId: string;
  readonly pageId: string | null;
  readonly username: string | null;
};

/**
 * What a flow has done on the platform so far (container and child ids, upload ids, a write that was sent),
 * kept in the post's `publish_state` column. A flow saves it before each call that builds on it, so a
 * publisher that dies anywhere resumes from it and never creates or publishes twice.
 */
export type PublishProgress = Readonly<Record<string, unknown>>;

export type StepContext = {
  readonly graph: GraphClient;
  /** Decrypted for this step only; never logged, never stored. */
  readonly token: string;
  readonly account: PublishAccount;
  readonly now: () => Date;
  readonly logger: FastifyBaseLogger;
  /** Persists progress before the next platform call; throws ClaimLostError when another instance took the post. */
  save(progress: PublishProgress): Promise<void>;
};

export type StepOutcome =
  /** Come back later (a container or video still processing, quota used up); the worker is released meanwhile. */
  | { readonly kind: 'wait'; readonly progress: PublishProgress; readonly checkAfterMs: number; readonly reason: 'processing' | 'quota' | 'rate-limit' }
  | {
      readonly kind: 'published';
      readonly progress: PublishProgress;
      readonly platformPostId: string;
      readonly platformUrl: string | null;
      readonly mediaCount: number;
    };

/**
 * One platform's publishing. `step` advances the post as far as it can and throws Graph errors
 * (GraphApiError, GraphNetworkError, GraphResponseError from @postwire/graph) for the engine to classify.
 * Before any write whose outcome could be unclear, it saves progress marking the write as sent; when it is
 * called again with such a mark and no result, it reconciles (reads back what the platform holds) before
 * doing anything else, so a post is never published twice.
 */
export type PlatformFlow = {
  step(post: PostToPublish, progress: PublishProgress, context: StepContext): Promise<StepOutcome>;
  /** Deletes a published post on the platform; false where Meta does not allow it (then only ours is deleted). */
  remove(platformPostId: string, context: StepContext): Promise<boolean>;
};

export class ClaimLostError extends Error {
  override readonly name = 'ClaimLostError';
  constructor(postId: string) {
    super(`post ${postId} is no longer claimed by this instance`);
  }
}
