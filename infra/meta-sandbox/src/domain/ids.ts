import { randomBytes } from 'node:crypto';

/**
 * Meta's object ids are numeric strings whose leading digits hint at the kind (17841... for IG users,
 * 179... for IG media). The sandbox keeps that look, so ids are opaque numeric strings to clients.
 */
const ID_PREFIX = {
  user: '10009',
  page: '10010',
  instagramUser: '17841',
  container: '17950',
  instagramMedia: '17900',
  instagramComment: '17960',
  photo: '10020',
  video: '10030',
  post: '10040',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export type IdGenerator = { next(kind: IdKind): string; reset(): void };

export function createIdGenerator(): IdGenerator {
  let counter = 0;
  return {
    next(kind) {
      counter += 1;
      return ID_PREFIX[kind] + String(counter).padStart(10, '0');
    },
    reset() {
      counter = 0;
    },
  };
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

const SHORTCODE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** An Instagram-style shortcode derived from the media id, so it is stable for the same id. */
export function shortcodeFor(mediaId: string): string {
  let value = BigInt(mediaId);
  let code = '';
  while (value > 0n) {
    code = SHORTCODE_ALPHABET[Number(value % 64n)] + code;
    value /= 64n;
  }
  return ('C' + code).padEnd(11, 'A');
}
