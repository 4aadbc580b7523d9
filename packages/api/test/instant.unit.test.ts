import { afterEach, describe, expect, it } from 'vitest';
import { CreatePostBody, UpdatePostBody, instantRefusalMessage, parseOffsetInstant } from '../src/index.ts';

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('parseOffsetInstant: an RFC 3339 time with its offset, as the UTC instant', () => {
  // Node reads TZ again whenever it changes, so each zone really is the process's zone for its run.
  for (const zone of [undefined, 'Etc/UTC', 'Asia/Kolkata', 'America/New_York']) {
    describe(`with TZ ${zone ?? 'unset'}`, () => {
      const useZone = () => {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
      };

      it('Z, +05:30 and -05:00 spellings of one instant are the same instant', () => {
        useZone();
        expect(parseOffsetInstant('2026-03-08T14:00:00Z')).toEqual({ ok: true, instant: '2026-03-08T14:00:00.000Z' });
        expect(parseOffsetInstant('2026-03-08T19:30:00+05:30')).toEqual({ ok: true, instant: '2026-03-08T14:00:00.000Z' });
        expect(parseOffsetInstant('2026-03-08T09:00:00-05:00')).toEqual({ ok: true, instant: '2026-03-08T14:00:00.000Z' });
      });

      it('New York times on both sides of the spring-forward change keep their own offsets', () => {
        useZone();
        // 8 March 2026, 02:00 EST becomes 03:00 EDT: one hour of wall clock apart, one hour of instants apart.
        expect(parseOffsetInstant('2026-03-08T01:30:00-05:00')).toEqual({ ok: true, instant: '2026-03-08T06:30:00.000Z' });
        expect(parseOffsetInstant('2026-03-08T03:30:00-04:00')).toEqual({ ok: true, instant: '2026-03-08T07:30:00.000Z' });
      });

      it('the repeated 01:30 of the fall-back change names two instants an hour apart', () => {
        useZone();
        expect(parseOffsetInstant('2026-11-01T01:30:00-04:00')).toEqual({ ok: true, instant: '2026-11-01T05:30:00.000Z' });
        expect(parseOffsetInstant('2026-11-01T01:30:00-05:00')).toEqual({ ok: true, instant: '2026-11-01T06:30:00.000Z' });
      });

      it('refuses a wall-clock time without an offset instead of reading it in the process zone', () => {
        useZone();
        expect(parseOffsetInstant('2026-03-08T09:00:00')).toEqual({ ok: false, code: 'offset-required' });
        expect(parseOffsetInstant('2026-03-08T09:00:00.250')).toEqual({ ok: false, code: 'offset-required' });
      });
    });
  }

  it('keeps fractions of a second, to the millisecond', () => {
    expect(parseOffsetInstant('2026-03-08T09:00:00.123+01:00')).toEqual({ ok: true, instant: '2026-03-08T08:00:00.123Z' });
  });

  it('refuses what is not an RFC 3339 date-time', () => {
    for (const text of ['', 'tomorrow', '2026-03-08', '2026-03-08 09:00:00Z', '2026-03-08T09:00Z', '2026-03-08T09:00:00+0530', '2026-02-30T09:00:00Z', '2026-03-08T24:00:00Z', '1741420800']) {
      expect(parseOffsetInstant(text), text).toEqual({ ok: false, code: 'invalid-date-time' });
    }
  });

  it('tells the caller which field needs what', () => {
    expect(instantRefusalMessage('scheduledFor', 'offset-required')).toBe(
      'scheduledFor needs a UTC offset: end it with Z or ±hh:mm (e.g. 2026-03-08T09:00:00-05:00); a time without one names no instant',
    );
    expect(instantRefusalMessage('scheduledFor', 'invalid-date-time')).toBe('scheduledFor must be an RFC 3339 date-time with an offset, e.g. 2026-03-08T09:00:00Z');
  });
});

describe('post request bodies, derived from the contracts', () => {
  const body = {
    socialAccountId: '6f1c2b1e-8a3b-4c7d-9e2f-1a2b3c4d5e6f',
    platform: 'instagram',
    postType: 'feed',
    media: [{ position: 0, mediaType: 'image', url: 'https://cdn.example.com/a.jpg' }],
  };

  it('normalises scheduledFor to UTC', () => {
    expect(CreatePostBody.parse({ ...body, scheduledFor: '2026-03-08T19:30:00+05:30' }).scheduledFor).toBe('2026-03-08T14:00:00.000Z');
  });

  it('names the field and the code of an offset-less time', () => {
    const issues = CreatePostBody.safeParse({ ...body, scheduledFor: '2026-03-08T09:00:00' }).error?.issues ?? [];
    expect(issues).toEqual([expect.objectContaining({ path: ['scheduledFor'], params: { code: 'offset-required' } })]);
  });

  it('refuses unknown fields and a time together with publishNow', () => {
    expect(CreatePostBody.safeParse({ ...body, scheduled_for: '2026-03-08T09:00:00Z' }).error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['scheduled_for'] }),
    ]);
    expect(CreatePostBody.safeParse({ ...body, publishNow: true, scheduledFor: '2026-03-08T09:00:00Z' }).error?.issues).toEqual([
      expect.objectContaining({ path: ['publishNow'], params: { code: 'conflicting-fields' } }),
    ]);
    expect(CreatePostBody.safeParse({ ...body, publishNow: false, scheduledFor: '2026-03-08T09:00:00Z' }).success).toBe(true);
  });

  it('keeps the contracts\' media rules (a carousel needs 2 to 10 items)', () => {
    expect(CreatePostBody.safeParse({ ...body, postType: 'carousel' }).error?.issues).toEqual([
      expect.objectContaining({ path: ['media'], message: 'a carousel needs 2 to 10 media items' }),
    ]);
  });

  it('an update may only reschedule or unschedule, but must change something', () => {
    expect(UpdatePostBody.parse({ scheduledFor: null })).toEqual({ scheduledFor: null });
    expect(UpdatePostBody.parse({ scheduledFor: '2026-11-01T01:30:00-05:00' })).toEqual({ scheduledFor: '2026-11-01T06:30:00.000Z' });
    expect(UpdatePostBody.safeParse({}).success).toBe(false);
    expect(UpdatePostBody.safeParse({ platform: 'facebook' }).success).toBe(false);
  });
});
