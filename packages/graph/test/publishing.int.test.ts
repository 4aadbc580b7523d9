import { describe, expect, it } from 'vitest';
import { classifyGraphError } from '../src/index.ts';
import { BAKERY_IG, HOUR, STUDIO_IG, advance, control, mintToken, useSandbox } from './sandbox.ts';

const suite = useSandbox({ scopes: ['instagram_basic', 'instagram_content_publish', 'instagram_manage_insights', 'pages_show_list', 'pages_read_engagement'] });

const image = (query = 'w=1080&h=1350') => `${suite.baseUrl}/_sandbox/media/sample.jpg?${query}`;

describe('Instagram publishing helpers against the sandbox', () => {
  it('creates a container, sees it FINISHED, publishes it once, reads it back and its insights', async () => {
    const limit = await suite.graph.contentPublishingLimit(BAKERY_IG, suite.pageToken, new Date(Date.now() - 24 * HOUR));
    expect(limit).toEqual({ quotaUsage: 0, quotaTotal: 50, quotaDurationSeconds: 86_400 });

    const container = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: image(), caption: 'Fresh bread #bakery', altText: 'A loaf' });
    expect(container.id).toMatch(/^\d+$/);
    // Images take processing time too: publishing now would answer 9007/2207027.
    expect(await suite.graph.containerStatus(container.id, suite.pageToken)).toMatchObject({ id: container.id, statusCode: 'IN_PROGRESS' });
    const early = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, container.id).catch((caught: unknown) => caught);
    expect(classifyGraphError(early)).toMatchObject({ class: 'media-not-ready', action: 'poll-container' });
    await advance(suite.baseUrl, 2_000);
    expect(await suite.graph.containerStatus(container.id, suite.pageToken)).toMatchObject({ id: container.id, statusCode: 'FINISHED' });

    const media = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, container.id);
    expect(await suite.graph.containerStatus(container.id, suite.pageToken)).toMatchObject({ statusCode: 'PUBLISHED' });
    const published = await control<{ media: { id: string; containerId: string }[] }>(suite.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(published.media).toEqual([expect.objectContaining({ id: media.id, containerId: container.id })]);
    expect((await suite.graph.contentPublishingLimit(BAKERY_IG, suite.pageToken)).quotaUsage).toBe(1);

    const info = await suite.graph.mediaInfo(media.id, suite.pageToken);
    expect(info).toMatchObject({ id: media.id, mediaType: 'IMAGE', mediaProductType: 'FEED', likeCount: 0 });
    expect(info.permalink).toMatch(/^https?:\/\//);

    // Nothing at publish time comes back as an empty list, not zeros.
    expect(await suite.graph.mediaInsights(media.id, suite.pageToken, ['reach', 'likes'])).toEqual([]);
    await advance(suite.baseUrl, 48 * HOUR);
    const insights = await suite.graph.mediaInsights(media.id, suite.pageToken, ['reach', 'likes']);
    expect(insights.map((entry) => entry.name).sort()).toEqual(['likes', 'reach']);
    for (const entry of insights) expect(entry.value).toBeGreaterThan(0);

    const again = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, container.id).catch((caught: unknown) => caught);
    expect(classifyGraphError(again).class).toBe('invalid-parameter');
    expect((await control<{ media: unknown[] }>(suite.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`)).media).toHaveLength(1);
  });

  it('publishes a carousel from its children', async () => {
    const children = [];
    for (const size of ['w=1080&h=1080', 'w=1080&h=1350']) {
      children.push((await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'carousel-item', imageUrl: image(size) })).id);
    }
    const parent = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'carousel', children, caption: 'Two loaves' });
    await advance(suite.baseUrl, 2_000);
    expect((await suite.graph.containerStatus(parent.id, suite.pageToken)).statusCode).toBe('FINISHED');
    const media = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, parent.id);
    expect(await suite.graph.mediaInfo(media.id, suite.pageToken)).toMatchObject({ mediaType: 'CAROUSEL_ALBUM' });
  });

  it('classifies a reel published before processing ends as media-not-ready, then publishes it', async () => {
    await control(suite.baseUrl, 'PATCH', '/settings', { videoProcessingMs: 60_000 });
    const reel = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'reel', videoUrl: `${suite.baseUrl}/_sandbox/media/sample.mp4?seconds=10`, shareToFeed: true });
    expect((await suite.graph.containerStatus(reel.id, suite.pageToken)).statusCode).toBe('IN_PROGRESS');
    const early = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, reel.id).catch((caught: unknown) => caught);
    expect(classifyGraphError(early)).toMatchObject({ class: 'media-not-ready', action: 'poll-container' });
    await advance(suite.baseUrl, 61_000);
    expect((await suite.graph.containerStatus(reel.id, suite.pageToken)).statusCode).toBe('FINISHED');
    const media = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, reel.id);
    expect(await suite.graph.mediaInfo(media.id, suite.pageToken)).toMatchObject({ mediaType: 'VIDEO', mediaProductType: 'REELS' });
  });

  it('names the broken rule when the media is refused, and classifies expired containers', async () => {
    const large = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: image('w=1080&h=1350&pad_to=9000000') }).catch((caught: unknown) => caught);
    expect(classifyGraphError(large)).toMatchObject({ class: 'bad-media', rule: 'image-too-large', retryable: false });
    const png = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: `${suite.baseUrl}/_sandbox/media/sample.png` }).catch((caught: unknown) => caught);
    expect(classifyGraphError(png)).toMatchObject({ class: 'bad-media', rule: 'image-format' });
    const unreachable = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: `${suite.baseUrl}/_sandbox/media/status/404` }).catch((caught: unknown) => caught);
    expect(classifyGraphError(unreachable)).toMatchObject({ class: 'bad-media', rule: 'media-fetch-failed' });

    const stale = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: image() });
    await advance(suite.baseUrl, 25 * HOUR);
    expect((await suite.graph.containerStatus(stale.id, suite.pageToken)).statusCode).toBe('EXPIRED');
    const expired = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, stale.id).catch((caught: unknown) => caught);
    expect(classifyGraphError(expired)).toMatchObject({ class: 'container-expired', action: 'new-container' });
    const missing = await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, '17999999999999999').catch((caught: unknown) => caught);
    expect(classifyGraphError(missing).class).toBe('container-missing');
  });

  it('publishes with an Instagram Login token through the Instagram host', async () => {
    const token = await mintToken(suite.baseUrl, { kind: 'instagram-user', subjectId: STUDIO_IG, scopes: ['instagram_business_basic', 'instagram_business_content_publish'], longLived: true });
    const container = await suite.graph.createMediaContainer(STUDIO_IG, token, { kind: 'image', imageUrl: image(), caption: 'Studio' });
    await advance(suite.baseUrl, 2_000);
    const media = await suite.graph.publishMedia(STUDIO_IG, token, container.id);
    expect((await suite.graph.mediaInfo(media.id, token)).mediaProductType).toBe('FEED');
    expect((await suite.graph.instagramProfile(STUDIO_IG, token)).username).toBe('postwire.studio');
  });

  it('copes with absent usage headers (Meta sends none at low usage), and records them once they come', async () => {
    expect((await suite.graph.contentPublishingLimit(BAKERY_IG, suite.pageToken)).quotaTotal).toBe(50);
    expect(suite.graph.usage.latest()).toEqual({ app: undefined, business: {} });
    expect(suite.graph.usage.advice(BAKERY_IG)).toMatchObject({ action: 'proceed' });
    await control(suite.baseUrl, 'PATCH', '/settings', { usageHeadersFromPercent: 0 });
    await suite.graph.contentPublishingLimit(BAKERY_IG, suite.pageToken);
    const usage = suite.graph.usage.latest();
    // Instagram calls count against the account's business use case, not the app's platform budget.
    expect(usage.app).toBeUndefined();
    expect(usage.business[BAKERY_IG]).toEqual([{ type: 'instagram', callCount: 0, totalCputime: 0, totalTime: 0, estimatedTimeToRegainAccess: 0 }]);
    expect(suite.graph.usage.advice(BAKERY_IG)).toMatchObject({ action: 'proceed' });
  });
});
