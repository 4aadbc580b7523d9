import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { errors } from '../domain/errors.ts';
import { selectFields } from '../domain/fields.ts';
import { objectKind } from '../state/store.ts';
import { authenticate, instagramAccess, meId, pageAccess, readParams, requestedFields } from './graph-access.ts';
import { deleteInstagramMedia, renderComment, renderContainer, renderInstagramUser, renderMedia, visibleMedia } from './instagram.ts';
import { deletePagePost, renderPage, renderPhoto, renderPost, renderVideo } from './pages.ts';

/** `GET /{id}` and `DELETE /{id}` for every node kind: the id says what it is, the token whether you may see it. */
export function nodeRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get<{ Params: { id: string } }>('/:id', { config: { operation: 'node.get' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const id = meId(token, request.params.id);
    const fields = requestedFields(params);
    const { store } = ctx;
    const kind = objectKind(store, id);
    switch (kind) {
      case 'instagram-user': {
        const { account } = instagramAccess(ctx, reply, token, id, 'get', 'basic');
        return renderInstagramUser(ctx, account, token, fields);
      }
      case 'instagram-container': {
        const container = store.containers.get(id);
        if (!container) break;
        instagramAccess(ctx, reply, token, container.igUserId, 'get', 'basic');
        return renderContainer(ctx, container, fields);
      }
      case 'instagram-media': {
        const media = visibleMedia(ctx, id, 'get');
        instagramAccess(ctx, reply, token, media.igUserId, 'get', 'basic');
        return renderMedia(ctx, media, fields);
      }
      case 'instagram-comment': {
        const comment = store.comments.get(id);
        const media = comment ? visibleMedia(ctx, comment.mediaId, 'get') : undefined;
        if (!comment || !media) break;
        instagramAccess(ctx, reply, token, media.igUserId, 'get', 'comments');
        return renderComment(comment, fields);
      }
      case 'page':
        pageAccess(ctx, reply, token, id, 'get');
        return renderPage(ctx, id, fields, ['name', 'id']);
      case 'page-post': {
        const post = store.posts.get(id);
        if (!post || post.deletedAt !== undefined) break;
        pageAccess(ctx, reply, token, post.pageId, 'get');
        return renderPost(ctx, post, fields);
      }
      case 'page-photo': {
        const photo = store.photos.get(id);
        if (!photo) break;
        pageAccess(ctx, reply, token, photo.pageId, 'get');
        return renderPhoto(ctx, id, fields);
      }
      case 'page-video': {
        const video = store.videos.get(id);
        if (!video) break;
        pageAccess(ctx, reply, token, video.pageId, 'get');
        return renderVideo(ctx, id, fields);
      }
      case 'facebook-user': {
        const user = store.users.get(id);
        if (!user || token.kind === 'instagram-user' || token.subjectId !== id) break;
        return selectFields('User', { id: () => user.id, name: () => user.name, email: () => (token.scopes.includes('email') ? user.email : undefined) }, fields, ['name', 'id']);
      }
      case 'application':
      case undefined:
        break;
    }
    throw errors.unsupported('get', id);
  });

  app.delete<{ Params: { id: string } }>('/:id', { config: { operation: 'node.delete' } }, async (request, reply) => {
    const params = readParams(request);
    const token = authenticate(ctx, request, reply, params);
    const id = request.params.id;
    const { store } = ctx;
    switch (objectKind(store, id)) {
      case 'instagram-media': {
        const media = visibleMedia(ctx, id, 'delete');
        instagramAccess(ctx, reply, token, media.igUserId, 'delete', 'basic');
        return deleteInstagramMedia(ctx, token, media);
      }
      case 'instagram-comment': {
        const comment = store.comments.get(id);
        const media = comment ? visibleMedia(ctx, comment.mediaId, 'delete') : undefined;
        if (!comment || !media) break;
        instagramAccess(ctx, reply, token, media.igUserId, 'delete', 'comments');
        store.comments.delete(id);
        media.commentIds = media.commentIds.filter((commentId) => commentId !== id);
        return { success: true };
      }
      case 'page-post': {
        const post = store.posts.get(id);
        if (!post || post.deletedAt !== undefined) break;
        pageAccess(ctx, reply, token, post.pageId, 'delete', { write: true, scopes: ['pages_manage_posts'] });
        return deletePagePost(ctx, post);
      }
      case 'page-photo':
      case 'page-video': {
        const item = store.photos.get(id) ?? store.videos.get(id);
        if (!item || item.deletedAt !== undefined) break;
        pageAccess(ctx, reply, token, item.pageId, 'delete', { write: true, scopes: ['pages_manage_posts'] });
        const post = item.postId ? store.posts.get(item.postId) : undefined;
        if (post && post.deletedAt === undefined) return deletePagePost(ctx, post);
        item.deletedAt = ctx.clock.now();
        return { success: true };
      }
      default:
        break;
    }
    throw errors.unsupported('delete', id);
  });
}
