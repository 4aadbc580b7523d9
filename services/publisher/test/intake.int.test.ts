import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  EncryptedSecret,
  type EventOf,
  type PostContent,
  accountEvents,
  postEvents,
  postRequests,
} from '@postwire/contracts';
import { type TokenCipher, createTokenCipher, eventFieldContext } from '@postwire/crypto';
import { type GraphClient, createGraphClient } from '@postwire/graph';
import { type EventProducer, createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type TestDatabase, type TopicObserver, addMember, createTestDatabase, eventually, observeTopic, sandboxControl, startMetaSandbox } from '@postwire/testing';
import { accountTokenContext } from '../src/db/accounts-projection.ts';
import { buildPublisher, intakeEnvironment } from './publisher-app.ts';

// The sandbox's dev seed (infra/meta-sandbox/README.md).
const ALICE = '1000900000000101';
const BAKERY_PAGE = '1001000000000201';
const BAKERY_IG = '17841400000000301';

type Member = { readonly userId: string; readonly organisationId: string };
type Answer = { readonly type: string; readonly data: Record<string, unknown> & { violations?: { field: string; code: string }[] } };
type PostRow = Record<string, unknown> & { status: string; scheduled_for: Date | null };
type PostRequest = EventOf<typeof postRequests>;

describe('publisher intake: post requests and account events through Kafka', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let sandbox: Awaited<ReturnType<typeof startMetaSandbox>>;
  let publisher: FastifyInstance;
  let logLines: string[];
  let cipher: TokenCipher;
  let graph: GraphClient;
  let gateway: EventProducer;
  let accountsService: EventProducer;
  let answers: TopicObserver;
  let member: Member;
  let stranger: Member;
  const accounts = { ig: randomUUID(), page: randomUUID(), noStories: randomUUID(), expired: randomUUID() };
  let pageToken: string;

  beforeAll(async () => {
    database = await createTestDatabase('publisher_intake');
    admin = new pg.Client({ connectionString: database.adminUrl });
    await admin.connect();
    sandbox = await startMetaSandbox();
    await sandboxControl(sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 0 });
    const built = await buildPublisher(intakeEnvironment(database, sandbox.baseUrl), { awaitConsumers: true });
    publisher = built.app;
    logLines = built.logLines;
    cipher = createTokenCipher(built.config.keyRing);
    graph = createGraphClient(built.config.graph);
    const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: 'publisher-intake-test', logger: pino({ level: 'silent' }) });
    gateway = createEventProducer(client, { source: '/postwire/gateway' });
    accountsService = createEventProducer(client, { source: '/postwire/accounts' });
    await Promise.all([gateway.connect(), accountsService.connect()]);
    answers = await observeTopic(postEvents.name);
    member = await addMember(admin);
    stranger = await addMember(admin);
    pageToken = await mintPageToken();
    const all = { feed: true, stories: true, reels: true };
    await connect(member, accounts.ig, { platform: 'instagram', accountType: 'business', platformAccountId: BAKERY_IG, pageId: BAKERY_PAGE, capabilities: all });
    await connect(member, accounts.page, { platform: 'facebook', accountType: 'page', platformAccountId: BAKERY_PAGE, pageId: BAKERY_PAGE, capabilities: all });
    await connect(member, accounts.noStories, { platform: 'instagram', accountType: 'creator', platformAccountId: '17841400000000399', pageId: null, capabilities: { ...all, stories: false } });
    await connect(member, accounts.expired, { platform: 'instagram', accountType: 'creator', platformAccountId: '17841400000000398', pageId: null, capabilities: all });
    await accountEvent(member, { type: 'account.expired', data: { socialAccountId: accounts.expired, platform: 'instagram', reason: 'token-expired', expiredAt: new Date().toISOString() } });
    await eventually(async () => ((await projected(accounts.expired))?.status === 'expired' ? true : undefined), 'the expired account');
  });

  afterAll(async () => {
    await answers?.stop();
    await gateway?.disconnect();
    await accountsService?.disconnect();
    await publisher?.close();
    await sandbox?.close();
    await admin?.end();
    await database?.drop();
  });

  async function mintPageToken(): Promise<string> {
    const scopes = ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_contents'];
    const minted = await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', { kind: 'facebook-page', subjectId: ALICE, pageId: BAKERY_PAGE, scopes, longLived: true });
    return minted.access_token;
  }

  const jpg = (query = '') => `${sandbox.baseUrl}/_sandbox/media/sample.jpg${query}`;
  const mp4 = (query = '?seconds=5') => `${sandbox.baseUrl}/_sandbox/media/sample.mp4${query}`;
  const projected = async (id: string) =>
    (await admin.query<{ status: string; username: string | null; access_token: string; last_event_at: Date }>(`SELECT status, username, access_token, last_event_at FROM publisher.accounts WHERE social_account_id = $1`, [id])).rows[0];
  const postRow = async (id: string) => (await admin.query<PostRow>(`SELECT * FROM publisher.social_media_posts WHERE id = $1`, [id])).rows[0];
  const mediaRows = async (id: string) => (await admin.query(`SELECT position, media_type, url, alt_text, user_tags, cover_url FROM publisher.post_media WHERE post_id = $1 ORDER BY position`, [id])).rows;

  async function accountEvent(owner: Member, event: EventOf<typeof accountEvents>, time?: Date): Promise<string> {
    const id = randomUUID();
    await accountsService.publish(accountEvents, [{ ...event, metadata: { id, organisationId: owner.organisationId, ...(time ? { time: time.toISOString() } : {}) } }]);
    return id;
  }

  async function connect(
    owner: Member,
    socialAccountId: string,
    profile: { platform: 'instagram' | 'facebook'; accountType: 'business' | 'creator' | 'page'; platformAccountId: string; pageId: string | null; capabilities: { feed: boolean; stories: boolean; reels: boolean } },
    options: { time?: Date; username?: string; token?: string } = {},
  ): Promise<string> {
    const id = await accountEvent(
      owner,
      {
        type: 'account.connected',
        data: {
          socialAccountId,
          ...profile,
          username: options.username ?? 'postwire.bakery',
          profilePictureUrl: null,
          pageName: null,
          accessToken: EncryptedSecret.parse(cipher.encrypt(options.token ?? pageToken, eventFieldContext('account.connected', socialAccountId, 'accessToken'))),
          tokenExpiresAt: null,
          connectedAt: new Date().toISOString(),
          reconnected: false,
        },
      },
      options.time,
    );
    await processed(id);
    return id;
  }

  const processed = (eventId: string) =>
    eventually(async () => ((await admin.query(`SELECT 1 FROM publisher.inbox WHERE event_id = $1`, [eventId])).rowCount ? true : undefined), `inbox row for ${eventId}`);

  async function send(owner: Member, request: PostRequest, id = randomUUID()): Promise<string> {
    await gateway.publish(postRequests, [{ ...request, metadata: { id, organisationId: owner.organisationId, actorId: owner.userId, correlationId: `test-${id}` } }]);
    return id;
  }

  const answerTo = (requestId: string, postId?: string) =>
    eventually<Answer>(() => {
      const found = answers.messages.find((message) => message.data.requestId === requestId && (postId === undefined || message.data.postId === postId));
      return found ? { type: found.headers.ce_type ?? '', data: found.data } : undefined;
    }, `the answer to ${requestId}`);

  const eventsAbout = (postId: string, type: string) => answers.messages.filter((message) => message.data.postId === postId && message.headers.ce_type === type);

  const imagePost = (extra: Partial<PostContent> = {}): PostContent => ({ platform: 'instagram', postType: 'feed', media: [{ position: 0, mediaType: 'image', url: jpg() }], ...extra });
  const later = (minutes = 60) => new Date(Date.now() + minutes * 60_000).toISOString();

  async function created(owner: Member, content: PostContent, scheduledFor: string | null, socialAccountId = accounts.ig): Promise<string> {
    const postId = randomUUID();
    const request: PostRequest =
      scheduledFor === null
        ? { type: 'post.drafted', data: { postId, socialAccountId, content } }
        : { type: 'post.scheduled', data: { postId, socialAccountId, content, scheduledFor } };
    const answer = await answerTo(await send(owner, request));
    expect(answer).toMatchObject({ type: 'post.accepted' });
    return postId;
  }

  describe('creating', () => {
    it('a draft: stored as the acting user’s, media listed, answered post.accepted with the request’s id', async () => {
      const postId = randomUUID();
      const content = imagePost({ caption: 'Fresh bread', hashtags: ['bakery'], media: [{ position: 0, mediaType: 'image', url: jpg(), altText: 'A loaf', userTags: [{ username: 'bob', x: 0.5, y: 0.4 }] }] });
      const requestId = await send(member, { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content } });
      const answer = await answerTo(requestId);
      expect(answer).toEqual({
        type: 'post.accepted',
        data: { postId, socialAccountId: accounts.ig, requestId, requestType: 'post.drafted', status: 'draft', platform: 'instagram', postType: 'feed', scheduledFor: null },
      });
      const message = answers.messages.find((found) => found.data.requestId === requestId);
      expect(message?.headers).toMatchObject({ ce_causationid: requestId, ce_organisationid: member.organisationId, ce_actorid: member.userId, ce_source: '/postwire/publisher' });
      expect(await postRow(postId)).toMatchObject({
        organisation_id: member.organisationId,
        social_account_id: accounts.ig,
        created_by: member.userId,
        status: 'draft',
        content_url: jpg(),
        content_type: 'image',
        caption: 'Fresh bread',
        hashtags: ['bakery'],
        facebook_format: null,
        scheduled_for: null,
      });
      expect(await mediaRows(postId)).toEqual([{ position: 0, media_type: 'image', url: jpg(), alt_text: 'A loaf', user_tags: [{ username: 'bob', x: 0.5, y: 0.4 }], cover_url: null }]);
    });

    it('a scheduled carousel with its extras: queued at its time, media in order', async () => {
      const scheduledFor = later(90);
      const content: PostContent = {
        platform: 'instagram',
        postType: 'carousel',
        media: [
          { position: 1, mediaType: 'video', url: mp4() },
          { position: 0, mediaType: 'image', url: jpg('?w=1080&h=1350') },
        ],
        caption: 'Two things @bob',
        locationId: '110843418940484',
        firstComment: 'More soon',
        collaborators: ['postwire.studio'],
      };
      const postId = randomUUID();
      const answer = await answerTo(await send(member, { type: 'post.scheduled', data: { postId, socialAccountId: accounts.ig, content, scheduledFor } }));
      expect(answer.data).toMatchObject({ status: 'queued', postType: 'carousel', scheduledFor: new Date(scheduledFor).toISOString() });
      const row = await postRow(postId);
      expect(row).toMatchObject({ status: 'queued', content_url: jpg('?w=1080&h=1350'), content_type: 'image', location_id: '110843418940484', first_comment: 'More soon', collaborators: ['postwire.studio'] });
      expect(row?.scheduled_for?.toISOString()).toBe(new Date(scheduledFor).toISOString());
      expect((await mediaRows(postId)).map((media) => [media.position, media.media_type])).toEqual([[0, 'image'], [1, 'video']]);
    });

    it('Facebook text and link posts: no media, content_url "" or the link, the format derived', async () => {
      const text = await created(member, { platform: 'facebook', postType: 'feed', media: [], caption: 'Open today' }, later(), accounts.page);
      const link = await created(member, { platform: 'facebook', postType: 'feed', media: [], link: 'https://postwire.example/menu' }, later(), accounts.page);
      const photo = await created(member, { platform: 'facebook', postType: 'carousel', media: [{ position: 0, mediaType: 'image', url: jpg() }, { position: 1, mediaType: 'image', url: jpg('?w=800&h=800') }] }, null, accounts.page);
      expect(await postRow(text)).toMatchObject({ content_url: '', content_type: 'image', facebook_format: 'text', link_url: null });
      expect(await postRow(link)).toMatchObject({ content_url: 'https://postwire.example/menu', content_type: 'image', facebook_format: 'link', link_url: 'https://postwire.example/menu' });
      expect(await postRow(photo)).toMatchObject({ facebook_format: 'multi-photo', status: 'draft' });
      expect(await mediaRows(text)).toEqual([]);
    });

    it('is idempotent on the request hash: the same body is answered again, another body under the key refused', async () => {
      const postId = randomUUID();
      const hash = 'a'.repeat(64);
      const content = imagePost({ caption: 'Once' });
      const first = await answerTo(await send(member, { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content, requestHash: hash } }));
      expect(first.type).toBe('post.accepted');
      const again = await send(member, { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content, requestHash: hash } });
      expect(await answerTo(again)).toMatchObject({ type: 'post.accepted', data: { postId, requestId: again, status: 'draft' } });
      const other = await send(member, { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content: imagePost({ caption: 'Twice' }), requestHash: 'b'.repeat(64) } });
      expect(await answerTo(other)).toMatchObject({ type: 'post.rejected', data: { violations: [{ field: 'requestHash', code: 'idempotency-key-reused' }] } });
      expect(await postRow(postId)).toMatchObject({ caption: 'Once', request_hash: hash });
      expect((await admin.query(`SELECT count(*)::int AS n FROM publisher.social_media_posts WHERE id = $1`, [postId])).rows[0]).toEqual({ n: 1 });
    });

    it('a request that can never apply (its acting user is unknown here) is still answered, as request-failed', async () => {
      const postId = randomUUID();
      const ghost = { userId: randomUUID(), organisationId: member.organisationId };
      const answer = await answerTo(await send(ghost, { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content: imagePost() } }), postId);
      expect(answer).toMatchObject({ type: 'post.rejected', data: { violations: [{ field: 'postId', code: 'request-failed' }] } });
      expect(await postRow(postId)).toBeUndefined();
    });

    it('refuses with every violation at once, each with its stable code and field', async () => {
      const ig = accounts.ig;
      const cases: [string, string, PostContent, string, string[]][] = [
        ['unknown account', randomUUID(), imagePost(), later(), ['socialAccountId:account-unknown']],
        ['another platform’s account', accounts.page, imagePost(), later(), ['platform:account-platform-mismatch']],
        ['expired account', accounts.expired, imagePost(), later(), ['socialAccountId:account-not-active']],
        ['capability missing', accounts.noStories, imagePost({ postType: 'story' }), later(), ['postType:capability-missing']],
        ['reel of an image', ig, imagePost({ postType: 'reel' }), later(), ['media[0].mediaType:media-type-mismatch']],
        ['feed video', ig, imagePost({ media: [{ position: 0, mediaType: 'video', url: mp4() }] }), later(), ['media[0].mediaType:feed-video-must-be-reel']],
        ['link on Instagram', ig, imagePost({ link: 'https://postwire.example' }), later(), ['link:link-not-supported']],
        ['caption too long with hashtags', ig, imagePost({ caption: 'a'.repeat(2200), hashtags: ['x'] }), later(), ['caption:caption-too-long']],
        ['31 hashtags', ig, imagePost({ caption: '#one', hashtags: Array.from({ length: 30 }, (_, index) => `t${index}`) }), later(), ['hashtags:too-many-hashtags']],
        ['21 mentions', ig, imagePost({ caption: Array.from({ length: 21 }, (_, index) => `@u${index}`).join(' ') }), later(), ['caption:too-many-mentions']],
        ['story extras', ig, imagePost({ postType: 'story', collaborators: ['a'], locationId: '1', firstComment: 'hi', shareToFeed: true }), later(), [
          'collaborators:collaborators-not-supported', 'locationId:location-not-supported', 'firstComment:first-comment-not-supported', 'shareToFeed:share-to-feed-not-supported',
        ]],
        ['reel extras', ig, imagePost({ postType: 'reel', media: [{ position: 0, mediaType: 'video', url: mp4(), altText: 'no' }] }), later(), ['media[0].altText:alt-text-on-video']],
        ['image extras', ig, imagePost({ media: [{ position: 0, mediaType: 'image', url: jpg(), userTags: [{ username: 'bob' }], coverUrl: jpg(), thumbOffsetMs: 10 }] }), later(), [
          'media[0].userTags[0]:user-tag-position-required', 'media[0].coverUrl:cover-on-image', 'media[0].thumbOffsetMs:cover-on-image',
        ]],
        ['Facebook tags and trial', accounts.page, { platform: 'facebook', postType: 'reel', media: [{ position: 0, mediaType: 'video', url: mp4(), userTags: [{ username: 'bob' }] }], trialParams: { graduationStrategy: 'MANUAL' } }, later(), [
          'media[0].userTags:user-tags-not-supported', 'trialParams:trial-params-not-supported',
        ]],
        ['Facebook multi-photo with a video', accounts.page, { platform: 'facebook', postType: 'carousel', media: [{ position: 0, mediaType: 'image', url: jpg() }, { position: 1, mediaType: 'video', url: mp4() }] }, later(), ['media[1].mediaType:media-type-mismatch']],
        ['in the past', ig, imagePost(), new Date(Date.now() - 3_600_000).toISOString(), ['scheduledFor:schedule-in-past']],
        ['media answering 404', ig, imagePost({ media: [{ position: 0, mediaType: 'image', url: `${sandbox.baseUrl}/_sandbox/media/status/404` }] }), later(), ['media[0].url:media-unreachable']],
        ['media too slow', ig, imagePost({ media: [{ position: 0, mediaType: 'image', url: jpg('?delay_ms=4000') }] }), later(), ['media[0].url:media-unreachable']],
        ['a video where an image was promised', ig, imagePost({ media: [{ position: 0, mediaType: 'image', url: mp4() }] }), later(), ['media[0].url:media-content-type']],
      ];
      const sent = await Promise.all(
        cases.map(async ([, socialAccountId, content, scheduledFor]) => {
          const postId = randomUUID();
          return { postId, requestId: await send(member, { type: 'post.scheduled', data: { postId, socialAccountId, content, scheduledFor } }) };
        }),
      );
      for (const [index, [name, , , , expected]] of cases.entries()) {
        const { postId, requestId } = sent[index] ?? { postId: '', requestId: '' };
        const answer = await answerTo(requestId);
        expect({ name, type: answer.type, codes: answer.data.violations?.map((violation) => `${violation.field}:${violation.code}`) }).toEqual({ name, type: 'post.rejected', codes: expected });
        expect(await postRow(postId)).toBeUndefined();
      }
      expect(logLines.join('\n')).not.toContain(pageToken);
      const metrics = (await publisher.inject('/metrics')).body;
      expect(metrics).toMatch(/postwire_publisher_media_probes_total\{[^}]*outcome="media-unreachable"[^}]*\} 2\n/);
      expect(metrics).toMatch(/postwire_publisher_post_requests_total\{[^}]*type="post.scheduled",outcome="rejected"[^}]*\} [1-9]/);
    });
  });

  describe('changing an existing post', () => {
    it('schedules a draft, then updates it (content and media), then unschedules it', async () => {
      const postId = await created(member, imagePost({ caption: 'Draft' }), null);
      const scheduledFor = later(30);
      expect(await answerTo(await send(member, { type: 'post.scheduled', data: { postId, socialAccountId: accounts.ig, scheduledFor } }))).toMatchObject({
        type: 'post.accepted',
        data: { requestType: 'post.scheduled', status: 'queued', scheduledFor: new Date(scheduledFor).toISOString() },
      });
      const changes = { caption: 'Changed', media: [{ position: 0, mediaType: 'image' as const, url: jpg('?w=900&h=900'), altText: 'new' }] };
      expect(await answerTo(await send(member, { type: 'post.updated', data: { postId, socialAccountId: accounts.ig, changes } }))).toMatchObject({ data: { status: 'queued', requestType: 'post.updated' } });
      expect(await postRow(postId)).toMatchObject({ caption: 'Changed', status: 'queued', content_url: jpg('?w=900&h=900') });
      expect(await mediaRows(postId)).toEqual([expect.objectContaining({ url: jpg('?w=900&h=900'), alt_text: 'new' })]);
      expect(await answerTo(await send(member, { type: 'post.updated', data: { postId, socialAccountId: accounts.ig, changes: { caption: 'Back' }, scheduledFor: null } }))).toMatchObject({
        data: { status: 'draft', scheduledFor: null },
      });
      expect(await postRow(postId)).toMatchObject({ status: 'draft', scheduled_for: null, caption: 'Back' });
      // A change that breaks a rule is refused and leaves the post as it was.
      const bad = await answerTo(await send(member, { type: 'post.updated', data: { postId, socialAccountId: accounts.ig, changes: { postType: 'story', firstComment: 'x' } } }));
      expect(bad.data.violations).toEqual([{ field: 'firstComment', code: 'first-comment-not-supported', message: 'a story cannot be commented on' }]);
      expect(await postRow(postId)).toMatchObject({ post_type: 'feed', first_comment: null });
    });

    it('publishes now (due at once), cancels back to draft, and refuses what the state does not allow', async () => {
      const postId = await created(member, imagePost(), later(600));
      const before = Date.now();
      expect(await answerTo(await send(member, { type: 'post.publish-requested', data: { postId, socialAccountId: accounts.ig } }))).toMatchObject({ data: { status: 'queued' } });
      const due = (await postRow(postId))?.scheduled_for?.getTime() ?? 0;
      expect(due).toBeGreaterThanOrEqual(before - 1000);
      expect(due).toBeLessThanOrEqual(Date.now() + 1000);
      expect(await answerTo(await send(member, { type: 'post.cancelled', data: { postId, socialAccountId: accounts.ig } }))).toMatchObject({ type: 'post.accepted', data: { status: 'draft' } });
      expect((await postRow(postId))?.status).toBe('draft');
      const again = await answerTo(await send(member, { type: 'post.cancelled', data: { postId, socialAccountId: accounts.ig } }));
      expect(again).toMatchObject({ type: 'post.rejected', data: { violations: [{ field: 'status', code: 'post-not-changeable' }] } });
      await admin.query(`UPDATE publisher.social_media_posts SET status = 'processing', scheduled_for = now() WHERE id = $1`, [postId]);
      const busy = await answerTo(await send(member, { type: 'post.updated', data: { postId, socialAccountId: accounts.ig, changes: { caption: 'late' } } }));
      expect(busy.data.violations).toEqual([{ field: 'status', code: 'post-not-changeable', message: 'the post is being published and can no longer be changed' }]);
    });

    it('retries a failed post: queued now, retries counted from zero, the error cleared', async () => {
      const postId = await created(member, imagePost(), later());
      await admin.query(`UPDATE publisher.social_media_posts SET status = 'failed', retry_count = 3, error_message = 'Meta said no' WHERE id = $1`, [postId]);
      expect(await answerTo(await send(member, { type: 'post.retry-requested', data: { postId, socialAccountId: accounts.ig } }))).toMatchObject({ type: 'post.accepted', data: { status: 'queued' } });
      expect(await postRow(postId)).toMatchObject({ status: 'queued', retry_count: 0, error_message: null });
      const notFailed = await answerTo(await send(member, { type: 'post.retry-requested', data: { postId, socialAccountId: accounts.ig } }));
      expect(notFailed.data.violations?.[0]).toMatchObject({ code: 'post-not-changeable' });
    });

    it('retries every failed post of an account, each answered on its own', async () => {
      const [one, two, draft] = [await created(member, imagePost(), later()), await created(member, imagePost(), later()), await created(member, imagePost(), null)];
      await admin.query(`UPDATE publisher.social_media_posts SET status = 'failed', error_message = 'token' WHERE id = ANY($1)`, [[one, two]]);
      const requestId = await send(member, { type: 'post.account-retry-requested', data: { socialAccountId: accounts.ig } });
      expect(await answerTo(requestId, one)).toMatchObject({ type: 'post.accepted', data: { requestType: 'post.account-retry-requested', status: 'queued' } });
      expect(await answerTo(requestId, two)).toMatchObject({ type: 'post.accepted' });
      expect((await postRow(one))?.status).toBe('queued');
      expect((await postRow(draft))?.status).toBe('draft');
    });

    it('If-Match: a request carrying the version the post is at applies; one carrying an older version is refused precondition-failed and changes nothing', async () => {
      const postId = await created(member, imagePost({ caption: 'First' }), later(600));
      const version = async () => (await admin.query<{ version: string }>(`SELECT (EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint::text AS version FROM publisher.social_media_posts WHERE id = $1`, [postId])).rows[0]?.version ?? '';
      const first = await version();
      const target = { postId, socialAccountId: accounts.ig };
      expect(await answerTo(await send(member, { type: 'post.updated', data: { ...target, changes: { caption: 'Second' }, expectedVersion: first } }))).toMatchObject({ type: 'post.accepted' });
      const second = await version();
      expect(second).not.toBe(first);
      const stale: PostRequest[] = [
        { type: 'post.updated', data: { ...target, changes: { caption: 'Lost' }, expectedVersion: first } },
        { type: 'post.scheduled', data: { ...target, scheduledFor: later(30), expectedVersion: first } },
        { type: 'post.cancelled', data: { ...target, expectedVersion: first } },
        { type: 'post.publish-requested', data: { ...target, expectedVersion: first } },
        { type: 'post.delete-requested', data: { ...target, deleteFromPlatform: false, expectedVersion: first } },
      ];
      for (const request of stale) {
        const answer = await answerTo(await send(member, request));
        expect({ type: request.type, answer: answer.type, violations: answer.data.violations }).toEqual({
          type: request.type,
          answer: 'post.rejected',
          violations: [{ field: 'If-Match', code: 'precondition-failed', message: expect.stringContaining('changed since the version If-Match names') }],
        });
      }
      expect(await postRow(postId)).toMatchObject({ caption: 'Second', status: 'queued' });
      expect(await version()).toBe(second);
      // The read API names the same version: what the gateway answers as the post's ETag.
      expect(await answerTo(await send(member, { type: 'post.cancelled', data: { ...target, expectedVersion: second } }))).toMatchObject({ type: 'post.accepted', data: { status: 'draft' } });
    });

    it('another organisation’s request about the post is refused as not found, and changes nothing', async () => {
      const postId = await created(member, imagePost({ caption: 'Mine' }), later());
      const requests: PostRequest[] = [
        { type: 'post.updated', data: { postId, socialAccountId: accounts.ig, changes: { caption: 'Theirs' } } },
        { type: 'post.cancelled', data: { postId, socialAccountId: accounts.ig } },
        { type: 'post.publish-requested', data: { postId, socialAccountId: accounts.ig } },
        { type: 'post.delete-requested', data: { postId, socialAccountId: accounts.ig, deleteFromPlatform: true } },
        { type: 'post.drafted', data: { postId, socialAccountId: accounts.ig, content: imagePost(), requestHash: 'c'.repeat(64) } },
      ];
      for (const request of requests) {
        const answer = await answerTo(await send(stranger, request));
        expect({ type: request.type, answer: answer.type, violations: answer.data.violations }).toEqual({
          type: request.type,
          answer: 'post.rejected',
          violations: [{ field: 'postId', code: 'post-not-found', message: 'there is no such post in your organisation' }],
        });
      }
      expect(await postRow(postId)).toMatchObject({ caption: 'Mine', status: 'queued', organisation_id: member.organisationId });
    });
  });

  describe('deleting', () => {
    it('a draft: status deleted, post.deleted without a platform call', async () => {
      const postId = await created(member, imagePost(), null);
      const requestId = await send(member, { type: 'post.delete-requested', data: { postId, socialAccountId: accounts.ig, deleteFromPlatform: true } });
      expect(await answerTo(requestId)).toMatchObject({ type: 'post.accepted', data: { status: 'deleted' } });
      const deleted = await eventually(() => eventsAbout(postId, 'post.deleted')[0], 'post.deleted');
      expect(deleted.data).toMatchObject({ reason: 'user-request', deletedFromPlatform: false, platform: 'instagram' });
      expect(await postRow(postId)).toMatchObject({ status: 'deleted' });
      const twice = await answerTo(await send(member, { type: 'post.delete-requested', data: { postId, socialAccountId: accounts.ig, deleteFromPlatform: false } }));
      expect(twice.data.violations?.[0]).toMatchObject({ code: 'post-not-changeable' });
    });

    it('published posts on Instagram and on a Page: deleted there first, counters down in the same transaction', async () => {
      const container = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: jpg() });
      const igMedia = await eventually(() => graph.publishMedia(BAKERY_IG, pageToken, container.id).catch(() => undefined), 'the sandbox to publish the image');
      const pagePost = await graph.post(`/${BAKERY_PAGE}/feed`, { token: pageToken, params: { message: 'Open today' }, schema: z.object({ id: z.string() }) });
      const video = randomUUID();
      await admin.query(`INSERT INTO social_media_videos (id, organisation_id, video_url, status, posted_to_social, post_count) VALUES ($1, $2, 'https://cdn.example/v.mp4', 'completed', true, 2)`, [video, member.organisationId]);
      const igPost = await created(member, imagePost({ contentId: video }), later());
      const fbPost = await created(member, { platform: 'facebook', postType: 'feed', media: [], caption: 'Open today', contentId: video }, later(), accounts.page);
      const publish = (postId: string, platformPostId: string) =>
        admin.query(`UPDATE publisher.social_media_posts SET status = 'published', published_at = now(), platform_post_id = $2 WHERE id = $1`, [postId, platformPostId]);
      await publish(igPost, igMedia.id);
      await publish(fbPost, pagePost.id);

      await answerTo(await send(member, { type: 'post.delete-requested', data: { postId: igPost, socialAccountId: accounts.ig, deleteFromPlatform: true } }));
      expect((await eventually(() => eventsAbout(igPost, 'post.deleted')[0], 'post.deleted')).data).toMatchObject({ deletedFromPlatform: true });
      const igMediaList = await sandboxControl<{ media: { id: string; deleted: boolean }[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
      expect(igMediaList.media.find((media) => media.id === igMedia.id)?.deleted).toBe(true);
      expect((await admin.query(`SELECT posted_to_social, post_count FROM social_media_videos WHERE id = $1`, [video])).rows[0]).toEqual({ posted_to_social: true, post_count: 1 });

      await answerTo(await send(member, { type: 'post.delete-requested', data: { postId: fbPost, socialAccountId: accounts.page, deleteFromPlatform: true } }));
      expect((await eventually(() => eventsAbout(fbPost, 'post.deleted')[0], 'post.deleted')).data).toMatchObject({ deletedFromPlatform: true, platform: 'facebook' });
      const pagePosts = await sandboxControl<{ posts: { id: string; deleted: boolean }[] }>(sandbox.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`);
      expect(pagePosts.posts.find((post) => post.id === pagePost.id)?.deleted).toBe(true);
      expect((await admin.query(`SELECT posted_to_social, post_count FROM social_media_videos WHERE id = $1`, [video])).rows[0]).toEqual({ posted_to_social: false, post_count: 0 });
    });

    it('an Instagram Login account cannot delete on the platform: ours goes, deletedFromPlatform false', async () => {
      const igLogin = randomUUID();
      const token = (await sandboxControl<{ access_token: string }>(sandbox.baseUrl, 'POST', '/tokens', { kind: 'instagram-user', subjectId: BAKERY_IG, longLived: true })).access_token;
      await connect(member, igLogin, { platform: 'instagram', accountType: 'business', platformAccountId: '17841400000000397', pageId: null, capabilities: { feed: true, stories: true, reels: true } }, { token });
      const container = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: jpg() });
      const media = await eventually(() => graph.publishMedia(BAKERY_IG, pageToken, container.id).catch(() => undefined), 'the sandbox to publish the image');
      const postId = await created(member, imagePost(), later(), igLogin);
      await admin.query(`UPDATE publisher.social_media_posts SET status = 'published', published_at = now(), platform_post_id = $2 WHERE id = $1`, [postId, media.id]);
      await answerTo(await send(member, { type: 'post.delete-requested', data: { postId, socialAccountId: igLogin, deleteFromPlatform: true } }));
      expect((await eventually(() => eventsAbout(postId, 'post.deleted')[0], 'post.deleted')).data).toMatchObject({ deletedFromPlatform: false });
      expect((await postRow(postId))?.status).toBe('deleted');
      expect(logLines.join('\n')).not.toContain(token);
    });
  });

  describe('the account projection', () => {
    it('stores the token re-encrypted for its column, and an older event arriving late changes nothing', async () => {
      const owner = await addMember(admin);
      const id = randomUUID();
      const profile = { platform: 'instagram' as const, accountType: 'creator' as const, platformAccountId: '17841400000000396', pageId: null, capabilities: { feed: true, stories: true, reels: true } };
      const t0 = new Date(Date.now() - 60_000);
      await connect(owner, id, profile, { time: t0, username: 'newest', token: 'token-new' });
      const row = await projected(id);
      expect(cipher.decrypt(row?.access_token ?? '', accountTokenContext(id))).toBe('token-new');
      expect(row?.access_token).not.toContain('token-new');
      // Older events arrive after the newer one: a connect, an update, a token refresh, an expiry.
      await connect(owner, id, profile, { time: new Date(t0.getTime() - 5_000), username: 'older', token: 'token-old' });
      await processed(await accountEvent(owner, { type: 'account.updated', data: { socialAccountId: id, ...profile, username: 'older-update', profilePictureUrl: null, pageName: null, status: 'error', lastSyncedAt: t0.toISOString() } }, new Date(t0.getTime() - 4_000)));
      await processed(
        await accountEvent(
          owner,
          { type: 'account.token-refreshed', data: { socialAccountId: id, platform: 'instagram', accessToken: EncryptedSecret.parse(cipher.encrypt('token-refreshed-old', eventFieldContext('account.token-refreshed', id, 'accessToken'))), tokenExpiresAt: null, refreshedAt: t0.toISOString() } },
          new Date(t0.getTime() - 3_000),
        ),
      );
      await processed(await accountEvent(owner, { type: 'account.expired', data: { socialAccountId: id, platform: 'instagram', reason: 'token-expired', expiredAt: t0.toISOString() } }, new Date(t0.getTime() - 2_000)));
      const after = await projected(id);
      expect(after).toMatchObject({ status: 'active', username: 'newest' });
      expect(cipher.decrypt(after?.access_token ?? '', accountTokenContext(id))).toBe('token-new');
      // Newer ones apply.
      await processed(await accountEvent(owner, { type: 'account.updated', data: { socialAccountId: id, ...profile, username: 'renamed', profilePictureUrl: null, pageName: null, status: 'active', lastSyncedAt: new Date().toISOString() } }));
      await processed(
        await accountEvent(owner, {
          type: 'account.token-refreshed',
          data: { socialAccountId: id, platform: 'instagram', accessToken: EncryptedSecret.parse(cipher.encrypt('token-refreshed', eventFieldContext('account.token-refreshed', id, 'accessToken'))), tokenExpiresAt: later(60 * 24), refreshedAt: new Date().toISOString() },
        }),
      );
      const newest = await projected(id);
      expect(newest).toMatchObject({ username: 'renamed', status: 'active' });
      expect(cipher.decrypt(newest?.access_token ?? '', accountTokenContext(id))).toBe('token-refreshed');
    });

    it('an expired account fails its queued posts with a reconnect message; drafts stay', async () => {
      const owner = await addMember(admin);
      const id = randomUUID();
      await connect(owner, id, { platform: 'instagram', accountType: 'business', platformAccountId: '17841400000000395', pageId: null, capabilities: { feed: true, stories: true, reels: true } });
      const queued = await created(owner, imagePost(), later(), id);
      const draft = await created(owner, imagePost(), null, id);
      await processed(await accountEvent(owner, { type: 'account.expired', data: { socialAccountId: id, platform: 'instagram', reason: 'permissions-revoked', expiredAt: new Date().toISOString() } }));
      const message = 'The post was not published: access to this Instagram account expired or was revoked. Reconnect the Instagram account, then retry the post.';
      expect(await postRow(queued)).toMatchObject({ status: 'failed', error_message: message });
      expect((await postRow(draft))?.status).toBe('draft');
      const failed = await eventually(() => eventsAbout(queued, 'post.failed')[0], 'post.failed');
      expect(failed.data).toMatchObject({ socialAccountId: id, platform: 'instagram', attempts: 0, error: { category: 'token', message, retryable: false } });
      expect((await projected(id))?.status).toBe('expired');
      // Before a reconnect, retrying the account's failed posts is refused post by post, and changes nothing.
      const early = await send(owner, { type: 'post.account-retry-requested', data: { socialAccountId: id } });
      expect(await answerTo(early, queued)).toMatchObject({
        type: 'post.rejected',
        data: { requestType: 'post.account-retry-requested', violations: [{ field: 'socialAccountId', code: 'account-not-active' }] },
      });
      expect((await postRow(queued))?.status).toBe('failed');
      // Reconnected, the failed post can be retried.
      await connect(owner, id, { platform: 'instagram', accountType: 'business', platformAccountId: '17841400000000395', pageId: null, capabilities: { feed: true, stories: true, reels: true } });
      expect(await answerTo(await send(owner, { type: 'post.retry-requested', data: { postId: queued, socialAccountId: id } }))).toMatchObject({ type: 'post.accepted', data: { status: 'queued' } });
    });

    it('a disconnected account fails its queued posts; a deleted one takes every post with it, counters down', async () => {
      const owner = await addMember(admin);
      const [kept, gone] = [randomUUID(), randomUUID()];
      const profile = (platformAccountId: string) => ({ platform: 'facebook' as const, accountType: 'page' as const, platformAccountId, pageId: platformAccountId, capabilities: { feed: true, stories: true, reels: true } });
      await connect(owner, kept, profile('1001000000000991'));
      await connect(owner, gone, profile('1001000000000992'));
      const keptQueued = await created(owner, { platform: 'facebook', postType: 'feed', media: [], caption: 'a' }, later(), kept);
      await processed(await accountEvent(owner, { type: 'account.disconnected', data: { socialAccountId: kept, platform: 'facebook', reason: 'user-request', deleted: false, disconnectedAt: new Date().toISOString() } }));
      expect(await postRow(keptQueued)).toMatchObject({ status: 'failed', error_message: 'The post was not published: this Facebook Page was disconnected. Reconnect the Facebook Page, then retry the post.' });

      const video = randomUUID();
      await admin.query(`INSERT INTO social_media_videos (id, organisation_id, video_url, status, posted_to_social, post_count) VALUES ($1, $2, 'https://cdn.example/v.mp4', 'completed', true, 1)`, [video, owner.organisationId]);
      const published = await created(owner, { platform: 'facebook', postType: 'feed', media: [], caption: 'b', contentId: video }, later(), gone);
      const draft = await created(owner, { platform: 'facebook', postType: 'feed', media: [{ position: 0, mediaType: 'image', url: jpg() }] }, null, gone);
      await admin.query(`UPDATE publisher.social_media_posts SET status = 'published', published_at = now(), platform_post_id = '1_2' WHERE id = $1`, [published]);
      await processed(await accountEvent(owner, { type: 'account.disconnected', data: { socialAccountId: gone, platform: 'facebook', reason: 'user-request', deleted: true, disconnectedAt: new Date().toISOString() } }));
      expect(await postRow(published)).toBeUndefined();
      expect(await postRow(draft)).toBeUndefined();
      expect(await mediaRows(draft)).toEqual([]);
      expect((await admin.query(`SELECT posted_to_social, post_count FROM social_media_videos WHERE id = $1`, [video])).rows[0]).toEqual({ posted_to_social: false, post_count: 0 });
      for (const postId of [published, draft]) {
        expect((await eventually(() => eventsAbout(postId, 'post.deleted')[0], 'post.deleted')).data).toMatchObject({ reason: 'account-deleted', deletedFromPlatform: false });
      }
      expect((await projected(gone))?.status).toBe('disconnected');
      expect(await postRow(keptQueued)).toBeDefined();
    });
  });
});
