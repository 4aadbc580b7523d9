import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { postEvents } from '@postwire/contracts';
import { type TokenCipher, createTokenCipher } from '@postwire/crypto';
import {
  type Observed,
  type TestDatabase,
  type TopicObserver,
  createTestDatabase,
  eventually,
  observeTopic,
  sandboxControl,
  startMetaSandbox,
} from '@postwire/testing';
import { accountTokenContext } from '../src/db/accounts-projection.ts';
import { publisherEnvironment } from './publisher-app.ts';

// The sandbox's dev seed (infra/meta-sandbox/README.md).
export const ALICE = '1000900000000101';
export const BAKERY_PAGE = '1001000000000201';
export const BAKERY_IG = '17841400000000301';
export const STUDIO_PAGE = '1001000000000202';
export const STUDIO_IG = '17841400000000302';
export const PUBLISHING_SCOPES = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_comments'];

export type Sandbox = Awaited<ReturnType<typeof startMetaSandbox>>;

/** The publisher's environment in the engine's tests: fast timers. */
export function engineEnvironment(database: TestDatabase, sandboxUrl: string, keys: string, overrides: Record<string, string> = {}): Record<string, string> {
  return publisherEnvironment(database, sandboxUrl, keys, {
    GRAPH_TIMEOUT_MS: '3000',
    PUBLISHER_CLAIM_INTERVAL_MS: '50',
    PUBLISHER_CONTAINER_POLL_FIRST_MS: '50',
    PUBLISHER_CONTAINER_POLL_MAX_MS: '200',
    PUBLISHER_RETRY_BASE_DELAY_MS: '100',
    PUBLISHER_RETRY_MAX_DELAY_MS: '300',
    PUBLISHER_RETRY_MIN_DELAY_MS: '50',
    PUBLISHER_QUOTA_RECHECK_MS: '200',
    PUBLISHER_RATE_LIMIT_WAIT_MS: '200',
    PUBLISHER_CLAIM_LEASE_MS: '3000',
    ...overrides,
  });
}

export type PostInput = {
  readonly postType: 'feed' | 'reel' | 'story' | 'carousel';
  readonly media: readonly {
    readonly mediaType: 'image' | 'video';
    readonly url: string;
    readonly altText?: string;
    readonly userTags?: readonly { username: string; x?: number; y?: number }[];
    readonly coverUrl?: string;
    readonly thumbOffsetMs?: number;
  }[];
  readonly caption?: string;
  readonly hashtags?: readonly string[];
  readonly locationId?: string;
  readonly shareToFeed?: boolean;
  readonly firstComment?: string;
  readonly collaborators?: readonly string[];
  readonly trialGraduation?: 'MANUAL' | 'SS_PERFORMANCE';
  /** Default: now (due at once). */
  readonly scheduledFor?: Date;
  readonly maxRetries?: number;
  readonly contentId?: string;
  readonly socialAccountId?: string;
  /** Facebook posts name their kind (and their account must be a Page account). */
  readonly facebookFormat?: 'text' | 'link' | 'photo' | 'multi-photo' | 'video' | 'reel' | 'story';
  readonly linkUrl?: string;
};

/**
 * A test world: a database, the sandbox (fast processing), an organisation with a user, and the Bakery Instagram
 * account in the publisher's projection with a real sandbox Page token, encrypted as the intake stores it.
 * Posts are inserted directly as the worker role (the intake that creates them is built elsewhere).
 */
export async function createWorld(label: string) {
  const database = await createTestDatabase(label);
  const sandbox = await startMetaSandbox();
  await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 100, videoProcessingMs: 200 });
  const admin = new pg.Client({ connectionString: database.adminUrl });
  await admin.connect();
  const worker = new pg.Client({ connectionString: database.urlFor('publisher', 'worker') });
  await worker.connect();
  const keys = `test-1:${randomBytes(32).toString('base64')}`;
  const cipher: TokenCipher = createTokenCipher({ activeKeyId: 'test-1', keys: new Map([['test-1', Buffer.from(keys.slice('test-1:'.length), 'base64')]]) });
  const organisationId = randomUUID();
  const userId = randomUUID();
  await admin.query(`INSERT INTO public.organisations (id, name) VALUES ($1, $2)`, [organisationId, label]);
  await admin.query(`INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3)`, [userId, organisationId, `${label}@example.test`]);

  const mintPageToken = async (pageId: string) =>
    (await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', { kind: 'facebook-page', subjectId: ALICE, pageId, scopes: PUBLISHING_SCOPES, longLived: true })).access_token;

  /** An account in the projection, as the intake would store it from account.connected. */
  async function addAccount(
    options: { igId?: string; pageId?: string; organisationId?: string; token?: string; platform?: 'instagram' | 'facebook' } = {},
  ): Promise<{ socialAccountId: string; token: string }> {
    const socialAccountId = randomUUID();
    const token = options.token ?? (await mintPageToken(options.pageId ?? BAKERY_PAGE));
    const facebook = options.platform === 'facebook';
    await worker.query(
      `INSERT INTO publisher.accounts (social_account_id, organisation_id, platform, account_type, platform_account_id, page_id, username, status,
         capabilities, access_token, last_event_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'postwire.bakery', 'active', '{"feed":true,"stories":true,"reels":true}', $7, now())`,
      [
        socialAccountId,
        options.organisationId ?? organisationId,
        facebook ? 'facebook' : 'instagram',
        facebook ? 'page' : 'business',
        facebook ? (options.pageId ?? BAKERY_PAGE) : (options.igId ?? BAKERY_IG),
        options.pageId ?? BAKERY_PAGE,
        cipher.encrypt(token, accountTokenContext(socialAccountId)),
      ],
    );
    return { socialAccountId, token };
  }

  const account = await addAccount();

  async function insertPost(input: PostInput, organisation = organisationId, user = userId): Promise<string> {
    const id = randomUUID();
    const first = input.media[0];
    // One statement, as the intake writes it in one transaction: the engine never sees the post without its media.
    await worker.query(
      `WITH post AS (
         INSERT INTO publisher.social_media_posts (id, organisation_id, social_account_id, created_by, content_type, content_id, content_url, caption,
           post_type, hashtags, location_id, share_to_feed, scheduled_for, platform, status, max_retries, first_comment, collaborators, trial_graduation,
           facebook_format, link_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $18, 'queued', $14, $15, $16, $17, $19, $20)
         RETURNING id, organisation_id)
       INSERT INTO publisher.post_media (post_id, organisation_id, position, media_type, url, alt_text, user_tags, cover_url, thumb_offset_ms)
       SELECT post.id, post.organisation_id, item.position, item.media_type, item.url, item.alt_text, item.user_tags::jsonb, item.cover_url, item.thumb_offset_ms
         FROM post, unnest($21::int[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::int[])
              AS item(position, media_type, url, alt_text, user_tags, cover_url, thumb_offset_ms)`,
      [
        id,
        organisation,
        input.socialAccountId ?? account.socialAccountId,
        user,
        first?.mediaType ?? 'image',
        input.contentId ?? null,
        first?.url ?? 'https://example.test/none.jpg',
        input.caption ?? null,
        input.postType,
        input.hashtags ?? null,
        input.locationId ?? null,
        input.shareToFeed ?? false,
        input.scheduledFor ?? new Date(),
        input.maxRetries ?? 3,
        input.firstComment ?? null,
        input.collaborators ?? [],
        input.trialGraduation ?? null,
        input.facebookFormat === undefined ? 'instagram' : 'facebook',
        input.facebookFormat ?? null,
        input.linkUrl ?? null,
        input.media.map((_, position) => position),
        input.media.map((item) => item.mediaType),
        input.media.map((item) => item.url),
        input.media.map((item) => item.altText ?? null),
        input.media.map((item) => JSON.stringify(item.userTags ?? [])),
        input.media.map((item) => item.coverUrl ?? null),
        input.media.map((item) => item.thumbOffsetMs ?? null),
      ],
    );
    return id;
  }

  async function postRow(id: string) {
    const { rows } = await worker.query<{
      status: string;
      error_message: string | null;
      platform_post_id: string | null;
      platform_url: string | null;
      container_id: string | null;
      retry_count: number;
      first_comment_id: string | null;
      publish_state: Record<string, unknown>;
      claimed_by: string | null;
      published_at: Date | null;
    }>(
      `SELECT status, error_message, platform_post_id, platform_url, container_id, retry_count, first_comment_id, publish_state, claimed_by, published_at
         FROM publisher.social_media_posts WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`post ${id} not found`);
    return row;
  }

  /** Waits for the post to reach a final status and returns its row. */
  const settled = (id: string, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const row = await postRow(id);
        return row.status === 'published' || row.status === 'failed' ? row : undefined;
      },
      `post ${id} to be published or failed`,
      { timeoutMs, intervalMs: 50 },
    );

  /** Everything the sandbox published for an Instagram account, with its container: the exactly-once check. */
  const publishedMedia = async (igId = BAKERY_IG) =>
    (await sandboxControl<{ media: { id: string; containerId: string; caption?: string; mediaType?: string; mediaProductType?: string; children?: string[]; collaborators?: string[]; comments: (string | undefined)[]; permalink?: string }[] }>(sandbox.baseUrl, 'GET', `/instagram/${igId}/media`)).media;

  const image = (query = 'w=1080&h=1350') => `${sandbox.baseUrl}/_sandbox/media/sample.jpg?${query}`;
  const video = (seconds = 10) => `${sandbox.baseUrl}/_sandbox/media/sample.mp4?seconds=${seconds}&w=1080&h=1920`;

  let observer: TopicObserver | undefined;
  return {
    database,
    sandbox,
    admin,
    worker,
    keys,
    cipher,
    organisationId,
    userId,
    account,
    addAccount,
    mintPageToken,
    insertPost,
    postRow,
    settled,
    publishedMedia,
    image,
    video,
    environment: (overrides: Record<string, string> = {}) => engineEnvironment(database, sandbox.baseUrl, keys, overrides),
    /** Starts reading this run's post events (call once the publisher has provisioned the topic). */
    async observe(): Promise<TopicObserver> {
      observer ??= await observeTopic(postEvents.name);
      return observer;
    },
    eventsOf(postId: string): Observed[] {
      return (observer?.messages ?? []).filter((message) => message.data.postId === postId);
    },
    async close(): Promise<void> {
      await observer?.stop();
      await worker.end();
      await admin.end();
      await sandbox.close();
      await database.drop();
    },
  };
}

export type World = Awaited<ReturnType<typeof createWorld>>;

export const typesOf = (events: readonly Observed[]) => events.map((event) => event.headers.ce_type);
export { eventually, sandboxControl };
export { buildPublisher } from './publisher-app.ts';
