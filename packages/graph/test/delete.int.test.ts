import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GraphApiError } from '../src/index.ts';
import { BAKERY_IG, BAKERY_PAGE, control, mintToken, useSandbox } from './sandbox.ts';

const suite = useSandbox({ scopes: ['pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_contents'], settings: { imageProcessingMs: 0 } });

async function publishedImage(): Promise<string> {
  const container = await suite.graph.createMediaContainer(BAKERY_IG, suite.pageToken, { kind: 'image', imageUrl: `${suite.baseUrl}/_sandbox/media/sample.jpg` });
  return (await suite.graph.publishMedia(BAKERY_IG, suite.pageToken, container.id)).id;
}

describe('deleteObject', () => {
  it('deletes an Instagram media (Facebook Login, instagram_manage_contents) and a Page post', async () => {
    const media = await publishedImage();
    expect(await suite.graph.deleteObject(media, suite.pageToken)).toBe(true);
    const listed = await control<{ media: { id: string; deleted: boolean }[] }>(suite.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(listed.media.find((item) => item.id === media)?.deleted).toBe(true);

    const post = await suite.graph.post(`/${BAKERY_PAGE}/feed`, { token: suite.pageToken, params: { message: 'Open today' }, schema: z.object({ id: z.string() }) });
    expect(await suite.graph.deleteObject(post.id, suite.pageToken)).toBe(true);
    const posts = await control<{ posts: { id: string; deleted: boolean }[] }>(suite.baseUrl, 'GET', `/pages/${BAKERY_PAGE}/posts`);
    expect(posts.posts.find((item) => item.id === post.id)?.deleted).toBe(true);
  });

  it('answers false where Meta does not allow deleting (-1/2207073: an Instagram Login token), and throws other errors', async () => {
    const media = await publishedImage();
    const instagramLogin = await mintToken(suite.baseUrl, { kind: 'instagram-user', subjectId: BAKERY_IG });
    expect(await suite.graph.deleteObject(media, instagramLogin)).toBe(false);
    const listed = await control<{ media: { id: string; deleted: boolean }[] }>(suite.baseUrl, 'GET', `/instagram/${BAKERY_IG}/media`);
    expect(listed.media.find((item) => item.id === media)?.deleted).toBe(false);
    await expect(suite.graph.deleteObject('999999999999999', suite.pageToken)).rejects.toBeInstanceOf(GraphApiError);
  });
});
