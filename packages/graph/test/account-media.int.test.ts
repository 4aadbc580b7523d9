import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GraphClient } from '../src/index.ts';
import { BAKERY_IG, BAKERY_PAGE, advance, clientFor, control, mintToken, startSandbox } from './sandbox.ts';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let graph: GraphClient;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.baseUrl, 'POST', '/reset', {});
  await control(sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 0 });
  graph = clientFor(sandbox.baseUrl);
  token = await mintToken(sandbox.baseUrl, {
    kind: 'facebook-page',
    subjectId: '1000900000000101',
    pageId: BAKERY_PAGE,
    scopes: ['instagram_basic', 'instagram_content_publish', 'instagram_manage_comments', 'pages_show_list', 'pages_read_engagement'],
  });
});

const image = `http://127.0.0.1/_sandbox/media/sample.jpg?w=1080&h=1350`;

async function publish(caption: string, kind: 'image' | 'story' = 'image'): Promise<string> {
  const url = image.replace('http://127.0.0.1', sandbox.baseUrl);
  const container = await graph.createMediaContainer(BAKERY_IG, token, kind === 'story' ? { kind: 'story', imageUrl: url } : { kind: 'image', imageUrl: url, caption });
  return (await graph.publishMedia(BAKERY_IG, token, container.id)).id;
}

describe('reading back what an account published (reconciling an unclear media_publish)', () => {
  it('lists the account media newest first with caption, time and product type, within since/until, across pages', async () => {
    const before = new Date(Date.now() - 1_000);
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) ids.push(await publish(`Loaf ${index}`));
    const story = await publish('', 'story');

    const media = await graph.listAccountMedia(BAKERY_IG, token, { since: before });
    expect(media.map((item) => item.id).sort()).toEqual([...ids].sort());
    expect(media.find((item) => item.id === ids[0])).toMatchObject({ caption: 'Loaf 0', mediaProductType: 'FEED' });
    expect(media[0]?.timestamp).toBeInstanceOf(Date);
    expect(Math.abs((media[0]?.timestamp?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect((await graph.listAccountMedia(BAKERY_IG, token, { stories: true })).map((item) => item.id)).toEqual([story]);

    // Outside the window: nothing.
    await advance(sandbox.baseUrl, 3_600_000);
    expect(await graph.listAccountMedia(BAKERY_IG, token, { since: new Date(Date.now() + 1_800_000) })).toEqual([]);
    expect(await graph.listAccountMedia(BAKERY_IG, token, { until: before })).toEqual([]);
    // A small page size still finds all of them through paging.next; maxItems caps what is read.
    expect(await graph.listAccountMedia(BAKERY_IG, token, { maxItems: 2 })).toHaveLength(2);
  });

  it('comments on a published media once and answers the comment id', async () => {
    const media = await publish('With a comment');
    const comment = await graph.createComment(media, token, 'Open until 6 pm');
    expect(comment.id).toMatch(/^\d+$/);
    const inspected = await control<{ media: { id: string; comments: string[] }[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(inspected.media.find((item) => item.id === media)?.comments).toEqual(['Open until 6 pm']);
  });

  it('reads an error text with an empty status code as no status code, keeping the text', async () => {
    await control(sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 60_000 });
    const container = await graph.createMediaContainer(BAKERY_IG, token, { kind: 'image', imageUrl: image.replace('http://127.0.0.1', sandbox.baseUrl) });
    await control(sandbox.baseUrl, 'POST', `/containers/${container.id}/fail`, { subcode: 2207001, emptyStatusCode: true });
    expect(await graph.containerStatus(container.id, token)).toEqual({ id: container.id, statusCode: undefined, status: 'Error: Media upload has failed with error code 2207001' });
  });
});
