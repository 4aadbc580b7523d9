import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GraphApiError, type GraphClient } from '../src/index.ts';
import { ALICE, BAKERY_IG, BAKERY_PAGE, clientFor, control, mintToken, startSandbox } from './sandbox.ts';

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let graph: GraphClient;
let pageToken: string;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.baseUrl, 'POST', '/reset', {});
  await control(sandbox.baseUrl, 'PATCH', '/settings', { imageProcessingMs: 0 });
  graph = clientFor(sandbox.baseUrl);
  pageToken = await mintToken(sandbox.baseUrl, {
    kind: 'facebook-page',
    subjectId: ALICE,
    pageId: BAKERY_PAGE,
    scopes: ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_contents'],
  });
});

async function publishedImage(): Promise<string> {
  const container = await graph.createMediaContainer(BAKERY_IG, pageToken, { kind: 'image', imageUrl: `${sandbox.baseUrl}/_sandbox/media/sample.jpg` });
  return (await graph.publishMedia(BAKERY_IG, pageToken, container.id)).id;
}

describe('deleteObject', () => {
  it('deletes an Instagram media (Facebook Login, instagram_manage_contents) and a Page post', async () => {
    const media = await publishedImage();
    expect(await graph.deleteObject(media, pageToken)).toBe(true);
    const listed = await control<{ media: { id: string; deleted: boolean }[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(listed.media.find((item) => item.id === media)?.deleted).toBe(true);

    const post = await graph.post(`/${BAKERY_PAGE}/feed`, { token: pageToken, params: { message: 'Open today' }, schema: z.object({ id: z.string() }) });
    expect(await graph.deleteObject(post.id, pageToken)).toBe(true);
    const posts = await control<{ posts: { id: string; deleted: boolean }[] }>(sandbox.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`);
    expect(posts.posts.find((item) => item.id === post.id)?.deleted).toBe(true);
  });

  it('answers false where Meta does not allow deleting (-1/2207073: an Instagram Login token), and throws other errors', async () => {
    const media = await publishedImage();
    const instagramLogin = await mintToken(sandbox.baseUrl, { kind: 'instagram-user', subjectId: BAKERY_IG });
    expect(await graph.deleteObject(media, instagramLogin)).toBe(false);
    const listed = await control<{ media: { id: string; deleted: boolean }[] }>(sandbox.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(listed.media.find((item) => item.id === media)?.deleted).toBe(false);
    await expect(graph.deleteObject('999999999999999', pageToken)).rejects.toBeInstanceOf(GraphApiError);
  });
});
