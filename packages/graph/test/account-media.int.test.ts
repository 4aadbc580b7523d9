import { describe, expect, it } from 'vitest';
import { BAKERY_IG, advance, control, useSandbox } from './sandbox.ts';

const suite = useSandbox({ scopes: ['instagram_basic', 'instagram_content_publish', 'instagram_manage_comments', 'pages_show_list', 'pages_read_engagement'], settings: { imageProcessingMs: 0 } });

const image = `http://127.0.0.1/_sandbox/media/sample.jpg?w=1080&h=1350`;

async function publish(caption: string, kind: 'image' | 'story' = 'image'): Promise<string> {
  const url = image.replace('http://127.0.0.1', suite.baseUrl);
  const container = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, kind === 'story' ? { kind: 'story', imageUrl: url } : { kind: 'image', imageUrl: url, caption });
  return (await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, container.id)).id;
}

describe('reading back what an account published (reconciling an unclear media_publish)', () => {
  it('lists the account media newest first with caption, time and product type, within since/until, across pages', async () => {
    const before = new Date(Date.now() - 1_000);
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) ids.push(await publish(`Loaf ${index}`));
    const story = await publish('', 'story');

    const media = await suite.graph.listAccountMedia(BAKERY_IG, suite.pageToken, { since: before });
    expect(media.map((item) => item.id).sort()).toEqual([...ids].sort());
    expect(media.find((item) => item.id === ids[0])).toMatchObject({ caption: 'Loaf 0', mediaProductType: 'FEED' });
    expect(media[0]?.timestamp).toBeInstanceOf(Date);
    expect(Math.abs((media[0]?.timestamp?.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    expect((await suite.graph.listAccountMedia(BAKERY_IG, suite.pageToken, { stories: true })).map((item) => item.id)).toEqual([story]);

    // Outside the window: nothing.
    await advance(suite.baseUrl, 3_600_000);
    expect(await suite.graph.listAccountMedia(BAKERY_IG, suite.pageToken, { since: new Date(Date.now() + 1_800_000) })).toEqual([]);
    expect(await suite.graph.listAccountMedia(BAKERY_IG, suite.pageToken, { until: before })).toEqual([]);
    // A small page size still finds all of them through paging.next; maxItems caps what is read.
    expect(await suite.graph.listAccountMedia(BAKERY_IG, suite.pageToken, { maxItems: 2 })).toHaveLength(2);
  });

  it('comments on a published media once and answers the comment id', async () => {
    const media = await publish('With a comment');
    const comment = await suite.graph.createComment(media, suite.pageToken, 'Open until 6 pm');
    expect(comment.id).toMatch(/^\d+$/);
    const inspected = await control<{ media: { id: string; comments: string[] }[] }>(suite.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(inspected.media.find((item) => item.id === media)?.comments).toEqual(['Open until 6 pm']);
  });

  it('reads an error text with an empty status code as no status code, keeping the text', async () => {
    await control(suite.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 60_000 });
    const container = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: image.replace('http://127.0.0.1', suite.baseUrl) });
    await control(suite.baseUrl, 'POST', `/containers/${container.id}/fail`, { subcode: 2207001, emptyStatusCode: true });
    expect(await suite.graph.containerStatus(container.id, suite.pageToken)).toEqual({ id: container.id, statusCode: undefined, status: 'Error: Media upload has failed with error code 2207001' });
  });
});
