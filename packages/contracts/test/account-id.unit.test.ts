import { describe, expect, it } from 'vitest';
import { EventMetadataSchema } from '../src/envelope.ts';
import { derivedAccountId } from '../src/index.ts';

describe('derived social account ids', () => {
  it('derives one stable version 8 id per (organisation, platform, platform id), the same on both sides of an event', () => {
    const id = derivedAccountId('5b0e3c8e-7f0c-4a34-9d1c-0a4d1f7c2b11', 'instagram', '17841400000000301');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedAccountId('5b0e3c8e-7f0c-4a34-9d1c-0a4d1f7c2b11', 'instagram', '17841400000000301')).toBe(id);
    expect(derivedAccountId('5b0e3c8e-7f0c-4a34-9d1c-0a4d1f7c2b11', 'facebook', '17841400000000301')).not.toBe(id);
  });

  it('is a UUID the envelope and payload schemas accept', () => {
    const id = derivedAccountId('5b0e3c8e-7f0c-4a34-9d1c-0a4d1f7c2b11', 'facebook', '1001000000000201');
    expect(EventMetadataSchema.shape.id.safeParse(id).success).toBe(true);
  });
});
