import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { GraphError } from '../domain/errors.ts';
import { probeMedia } from '../domain/media-bytes.ts';
import { evaluateToken, type TokenRecord } from '../domain/tokens.ts';
import type { FetchedMedia } from '../plugins/media-fetcher.ts';
import { canActOnInstagram, canActOnPage } from './graph-access.ts';
import { fetchMedia, videoProblem } from './instagram.ts';

/**
 * rupload.facebook.com: resumable uploads for IG video containers (`/ig-api-upload/{ver}/{container}`) and
 * Page reels and video stories (`/video-upload/{ver}/{video_id}`). Auth is `Authorization: OAuth {token}`;
 * the bytes come in the body (`offset`, `file_size` headers) or from a `file_url` header.
 * Errors here use rupload's own shape: `{"debug_info":{"retriable","type","message"}}`.
 */
class UploadError extends Error {
  readonly retriable: boolean;
  readonly type: string;
  readonly status: number;
  constructor(message: string, type = 'ProcessingFailedError', status = 400, retriable = false) {
    super(message);
    this.retriable = retriable;
    this.type = type;
    this.status = status;
  }
}

const UPLOAD_BODY_LIMIT = 300 * 1024 * 1024;

function uploadToken(ctx: SandboxContext, request: FastifyRequest): TokenRecord {
  const match = /^(?:OAuth|Bearer)\s+(.+)$/i.exec(request.headers.authorization ?? '');
  const token = match?.[1] ? ctx.store.tokens.get(match[1].trim()) : undefined;
  if (!token) throw new UploadError('Invalid OAuth access token.', 'OAuthException', 401);
  const verdict = evaluateToken(token, ctx.clock.now());
  if (!verdict.valid) throw new UploadError(verdict.message, 'OAuthException', 401);
  return token;
}

async function receiveBytes(ctx: SandboxContext, request: FastifyRequest): Promise<FetchedMedia> {
  const fileUrl = request.headers.file_url;
  if (typeof fileUrl === 'string' && fileUrl !== '') {
    try {
      return await fetchMedia(ctx, fileUrl);
    } catch (error) {
      if (error instanceof GraphError) throw new UploadError(error.userMsg ?? error.message, 'ProcessingFailedError', 400, error.isTransient);
      throw error;
    }
  }
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new UploadError('Send the video bytes in the body (with offset and file_size headers) or a file_url header.', 'InvalidRequestError');
  }
  const offset = Number(request.headers.offset ?? 0);
  const fileSize = Number(request.headers.file_size ?? body.length);
  if (offset !== 0) throw new UploadError('The sandbox accepts whole-file uploads only (offset 0).', 'InvalidRequestError');
  if (fileSize !== body.length) throw new UploadError(`file_size ${fileSize} does not match the ${body.length} bytes received.`, 'InvalidRequestError');
  return { url: 'upload', bytes: body.length, contentType: String(request.headers['content-type'] ?? ''), ...probeMedia(body) };
}

function sendUploadError(error: unknown, reply: FastifyReply) {
  if (error instanceof UploadError) {
    return reply.code(error.status).send({ debug_info: { retriable: error.retriable, type: error.type, message: error.message } });
  }
  throw error;
}

export function uploadRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.addContentTypeParser(['application/octet-stream', 'video/mp4', 'video/quicktime'], { parseAs: 'buffer', bodyLimit: UPLOAD_BODY_LIMIT }, (_request, body, done) => {
    done(null, body);
  });

  app.post<{ Params: { version: string; id: string } }>(
    '/ig-api-upload/:version/:id',
    { config: { operation: 'instagram.upload' }, bodyLimit: UPLOAD_BODY_LIMIT },
    async (request, reply) => {
      try {
        const token = uploadToken(ctx, request);
        const container = ctx.store.containers.get(request.params.id);
        const account = container ? ctx.store.instagramAccounts.get(container.igUserId) : undefined;
        if (!container || !account || token.kind === 'instagram-user' || !canActOnInstagram(ctx, token, account)) {
          throw new UploadError(`Unknown container ${request.params.id}.`, 'NotFoundError', 404);
        }
        if (container.readyAt !== undefined || container.probe !== undefined) throw new UploadError('This container already has its media.', 'InvalidRequestError');
        const media = await receiveBytes(ctx, request);
        const kind = container.request.kind === 'reel' ? 'reel' : container.request.kind === 'story' ? 'story' : 'carousel-item';
        container.probe = media;
        if (videoProblem(media, kind) !== undefined) container.errorSubcode = 2207026;
        container.readyAt = ctx.clock.now() + ctx.settings.videoProcessingMs;
        return { success: true, message: 'Upload successful.' };
      } catch (error) {
        return sendUploadError(error, reply);
      }
    },
  );

  app.post<{ Params: { version: string; id: string } }>(
    '/video-upload/:version/:id',
    { config: { operation: 'pages.video-upload' }, bodyLimit: UPLOAD_BODY_LIMIT },
    async (request, reply) => {
      try {
        const token = uploadToken(ctx, request);
        const video = ctx.store.videos.get(request.params.id);
        if (!video || !canActOnPage(ctx, token, video.pageId)) throw new UploadError(`Unknown video ${request.params.id}.`, 'NotFoundError', 404);
        if (video.uploadedAt !== undefined) throw new UploadError('This video has already been uploaded.', 'InvalidRequestError');
        const media = await receiveBytes(ctx, request);
        if (media.format !== 'mp4' && media.format !== 'mov') {
          video.uploadFailed = `Unsupported video format (${media.format}); use MP4 or MOV.`;
          throw new UploadError(video.uploadFailed);
        }
        video.uploadFailed = undefined;
        video.probe = media;
        video.uploadedAt = ctx.clock.now();
        return { success: true };
      } catch (error) {
        return sendUploadError(error, reply);
      }
    },
  );
}
