import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { generateJpeg, generateMovie, generatePng } from '../domain/media-bytes.ts';

/**
 * A tiny media host so tests have fetchable media without the internet:
 * `/_sandbox/media/sample.jpg?w=1080&h=1350`, `sample.mp4?seconds=10`, `sample.mov`, `sample.png`.
 * `pad_to=9000000` grows a JPEG past Meta's 8 MB limit, `delay_ms` slows the answer (download timeouts),
 * `/_sandbox/media/status/404` answers any status.
 */
const imageQuery = z.object({
  w: z.coerce.number().int().min(1).max(8192).default(1080),
  h: z.coerce.number().int().min(1).max(8192).default(1080),
  pad_to: z.coerce.number().int().min(0).max(64 * 1024 * 1024).default(0),
  delay_ms: z.coerce.number().int().min(0).max(120_000).default(0),
});

const videoQuery = z.object({
  w: z.coerce.number().int().min(1).max(8192).default(1080),
  h: z.coerce.number().int().min(1).max(8192).default(1920),
  seconds: z.coerce.number().min(0.1).max(3600).default(10),
  delay_ms: z.coerce.number().int().min(0).max(120_000).default(0),
});

export function mediaRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Uint8Array>();
  const cached = (key: string, make: () => Uint8Array) => {
    let bytes = cache.get(key);
    if (!bytes) {
      bytes = make();
      if (cache.size > 200) cache.clear();
      cache.set(key, bytes);
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };

  app.get('/_sandbox/media/sample.jpg', async (request, reply) => {
    const query = imageQuery.parse(request.query);
    if (query.delay_ms > 0) await sleep(query.delay_ms);
    const bytes = cached(`jpg:${query.w}:${query.h}:${query.pad_to}`, () => generateJpeg(query.w, query.h, query.pad_to));
    return reply.type('image/jpeg').header('cache-control', 'public, max-age=3600').send(bytes);
  });

  for (const extension of ['mp4', 'mov'] as const) {
    app.get(`/_sandbox/media/sample.${extension}`, async (request, reply) => {
      const query = videoQuery.parse(request.query);
      if (query.delay_ms > 0) await sleep(query.delay_ms);
      const bytes = cached(`${extension}:${query.w}:${query.h}:${query.seconds}`, () =>
        generateMovie({ durationSeconds: query.seconds, width: query.w, height: query.h, brand: extension }),
      );
      return reply.type(extension === 'mp4' ? 'video/mp4' : 'video/quicktime').send(bytes);
    });
  }

  app.get('/_sandbox/media/sample.png', async (_request, reply) => reply.type('image/png').send(Buffer.from(generatePng())));

  app.get<{ Params: { status: string } }>('/_sandbox/media/status/:status', async (request, reply) => {
    const status = Number(request.params.status);
    return reply.code(Number.isInteger(status) && status >= 200 && status <= 599 ? status : 400).type('text/plain').send(`status ${status}`);
  });
}
