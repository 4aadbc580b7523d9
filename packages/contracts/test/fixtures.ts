import { randomBytes, randomUUID } from 'node:crypto';
import type { EncryptedSecret } from '../src/index.ts';

const b64url = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Shaped like the crypto package's output; the bytes are random, nothing is really encrypted. */
export function fakeCiphertext(): EncryptedSecret {
  return `enc:v1:key-2025-01:${b64url(12)}:${b64url(48)}:${b64url(16)}` as EncryptedSecret;
}

export function publishedEvent(overrides: { socialAccountId?: string; postId?: string } = {}) {
  return {
    type: 'post.published' as const,
    data: {
      postId: overrides.postId ?? randomUUID(),
      socialAccountId: overrides.socialAccountId ?? randomUUID(),
      platform: 'instagram' as const,
      postType: 'carousel' as const,
      contentId: null,
      platformPostId: '17895695668004550',
      platformUrl: 'https://www.instagram.com/p/C0ffee/',
      mediaCount: 3,
      publishedAt: '2025-06-01T09:30:00.000Z',
    },
    metadata: { organisationId: randomUUID() },
  };
}
