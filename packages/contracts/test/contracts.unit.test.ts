import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, ENCRYPTED_SECRET_PATTERN, PostContent } from '../src/index.ts';
import { fakeCiphertext } from './fixtures.ts';

const image = (position: number) => ({ position, mediaType: 'image' as const, url: `https://cdn.example.com/${position}.jpg` });

describe('event catalogue', () => {
  it('names every topic with a major version and every type once', () => {
    const types = CATALOGUE.flatMap((topic) => topic.events.map((event) => event.type));
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types).size).toBe(types.length);
    for (const topic of CATALOGUE) expect(topic.name).toMatch(/^postwire\.[a-z-]+\.v\d+$/);
  });

  it('derives a JSON Schema from every payload schema, with socialAccountId (the key) required', () => {
    for (const topic of CATALOGUE) {
      for (const event of topic.events) {
        const schema = z.toJSONSchema(event.data, { unrepresentable: 'any' }) as { required?: string[] };
        expect(schema.required, event.type).toContain('socialAccountId');
      }
    }
  });

  it('carries no field that could hold a plaintext token', () => {
    const json = JSON.stringify(CATALOGUE.flatMap((topic) => topic.events.map((event) => z.toJSONSchema(event.data, { unrepresentable: 'any' }))));
    const tokenFields = [...json.matchAll(/"(\w*[Tt]oken)":\{([^}]*)\}/g)];
    expect(tokenFields.length).toBeGreaterThan(0);
    for (const [, name, body] of tokenFields) expect(body, name).toContain('"pattern"');
  });

  it('accepts the enc:v1 ciphertext format only', () => {
    expect(fakeCiphertext()).toMatch(ENCRYPTED_SECRET_PATTERN);
    expect('enc:v1:k1:short:abc:def').not.toMatch(ENCRYPTED_SECRET_PATTERN);
  });

  it('requires 2 to 10 media items for a carousel and exactly one otherwise', () => {
    const base = { platform: 'instagram', contentId: randomUUID() } as const;
    expect(PostContent.safeParse({ ...base, postType: 'carousel', media: [image(0)] }).success).toBe(false);
    expect(PostContent.safeParse({ ...base, postType: 'carousel', media: [image(0), image(1)] }).success).toBe(true);
    expect(PostContent.safeParse({ ...base, postType: 'carousel', media: [image(0), image(0)] }).success).toBe(false);
    expect(PostContent.safeParse({ ...base, postType: 'feed', media: [image(0), image(1)] }).success).toBe(false);
    expect(PostContent.safeParse({ ...base, postType: 'feed', media: [image(0)] }).success).toBe(true);
  });
});
