import { createHmac } from 'node:crypto';

/** Meta's webhook envelope and signatures. */
export type WebhookObject = 'instagram' | 'page';

export type WebhookPayload = {
  object: WebhookObject;
  entry: { id: string; time: number; changes: { field: string; value: unknown }[] }[];
};

export function webhookEntry(entryId: string, timeMs: number, field: string, value: unknown): WebhookPayload['entry'][number] {
  return { id: entryId, time: Math.floor(timeMs / 1000), changes: [{ field, value }] };
}

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>` (and the legacy SHA-1 header). */
export function signatures(rawBody: string, appSecret: string): { sha256: string; sha1: string } {
  return {
    sha256: 'sha256=' + createHmac('sha256', appSecret).update(rawBody).digest('hex'),
    sha1: 'sha1=' + createHmac('sha1', appSecret).update(rawBody).digest('hex'),
  };
}

export const WEBHOOK_FIELDS: Readonly<Record<WebhookObject, readonly string[]>> = {
  instagram: ['comments', 'mentions', 'story_insights', 'live_comments', 'messages'],
  page: ['feed', 'mention', 'videos', 'live_videos'],
};
