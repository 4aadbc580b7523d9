import { describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_MS,
  FIRST_POLL_MS,
  MAX_POLL_MS,
  PROCESSING_LIMIT_MS,
  SETTLE_MS,
  VIDEO_SETTLE_MS,
  findSentPost,
  normaliseMessage,
  pollDelayMs,
  processingTooLong,
  reconcileWindow,
  settleRemainingMs,
  videoReadiness,
  type PostCandidate,
  type VideoStatusView,
} from '../src/domain/facebook-publishing.ts';

const at = (iso: string) => new Date(iso);
const SENT = at('2026-12-02T09:00:00.000Z');
const WINDOW = { since: at('2026-12-02T08:59:00.000Z'), until: at('2026-12-02T09:02:00.000Z') };

const candidate = (overrides: Partial<PostCandidate> = {}): PostCandidate => ({
  id: 'p1',
  message: 'Fresh bread',
  createdTime: at('2026-12-02T09:00:01.000Z'),
  statusType: undefined,
  mediaIds: [],
  ...overrides,
});
const textPost = { message: 'Fresh bread', mediaIds: [], statusType: undefined };

describe('reconcileWindow', () => {
  it('looks from the skew before the write until the skew after now', () => {
    expect(CLOCK_SKEW_MS).toBe(60_000);
    expect(reconcileWindow(SENT, at('2026-12-02T09:01:00.000Z'))).toEqual({ since: at('2026-12-02T08:59:00.000Z'), until: at('2026-12-02T09:02:00.000Z') });
  });

  it('never ends before the write itself (a clock that went back)', () => {
    expect(reconcileWindow(SENT, at('2026-12-02T08:00:00.000Z')).until).toEqual(at('2026-12-02T09:01:00.000Z'));
  });
});

describe('settleRemainingMs', () => {
  it('waits out the rest of the settle time, then nothing', () => {
    expect(SETTLE_MS).toBe(10_000);
    expect(settleRemainingMs(SENT, SENT)).toBe(10_000);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:00:04.000Z'))).toBe(6_000);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:00:09.999Z'))).toBe(1);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:00:10.000Z'))).toBe(0);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:05:00.000Z'))).toBe(0);
  });

  it('takes a longer settle time where one is given (videos)', () => {
    expect(VIDEO_SETTLE_MS).toBe(300_000);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:00:10.000Z'), VIDEO_SETTLE_MS)).toBe(290_000);
    expect(settleRemainingMs(SENT, at('2026-12-02T09:05:00.000Z'), VIDEO_SETTLE_MS)).toBe(0);
  });
});

describe('normaliseMessage', () => {
  it('trims and turns CRLF and CR into LF; none is empty', () => {
    expect(normaliseMessage('  a\r\nb\rc\n ')).toBe('a\nb\nc');
    expect(normaliseMessage(undefined)).toBe('');
    expect(normaliseMessage('')).toBe('');
  });
});

describe('findSentPost', () => {
  it('matches on equal text inside the window', () => {
    expect(findSentPost([candidate()], textPost, WINDOW)).toBe('p1');
  });

  it('matches text that differs only in line ends and surrounding blanks', () => {
    expect(findSentPost([candidate({ message: 'Line one\nline two' })], { ...textPost, message: ' Line one\r\nline two ' }, WINDOW)).toBe('p1');
  });

  it('matches a post without text to a write without text', () => {
    expect(findSentPost([candidate({ message: undefined })], { ...textPost, message: undefined }, WINDOW)).toBe('p1');
    expect(findSentPost([candidate({ message: undefined })], textPost, WINDOW)).toBeUndefined();
  });

  it('refuses other text', () => {
    expect(findSentPost([candidate({ message: 'Fresh bread!' })], textPost, WINDOW)).toBeUndefined();
  });

  it('takes the window bounds as inclusive and refuses a millisecond outside', () => {
    expect(findSentPost([candidate({ createdTime: WINDOW.since })], textPost, WINDOW)).toBe('p1');
    expect(findSentPost([candidate({ createdTime: WINDOW.until })], textPost, WINDOW)).toBe('p1');
    expect(findSentPost([candidate({ createdTime: new Date(WINDOW.since.getTime() - 1) })], textPost, WINDOW)).toBeUndefined();
    expect(findSentPost([candidate({ createdTime: new Date(WINDOW.until.getTime() + 1) })], textPost, WINDOW)).toBeUndefined();
  });

  it('accepts a post without a creation time (the read was already limited to the window)', () => {
    expect(findSentPost([candidate({ createdTime: undefined })], textPost, WINDOW)).toBe('p1');
  });

  it('checks the kind only when both sides know it', () => {
    const photo = { ...textPost, statusType: 'added_photos' };
    expect(findSentPost([candidate({ statusType: 'added_photos' })], photo, WINDOW)).toBe('p1');
    expect(findSentPost([candidate({ statusType: 'added_video' })], photo, WINDOW)).toBeUndefined();
    expect(findSentPost([candidate({ statusType: undefined })], photo, WINDOW)).toBe('p1');
    expect(findSentPost([candidate({ statusType: 'added_video' })], textPost, WINDOW)).toBe('p1');
  });

  it('of several matching posts takes the earliest, wherever it is in the list', () => {
    const posts = [
      candidate({ id: 'late', createdTime: at('2026-12-02T09:00:30.000Z') }),
      candidate({ id: 'early', createdTime: at('2026-12-02T09:00:02.000Z') }),
      candidate({ id: 'middle', createdTime: at('2026-12-02T09:00:10.000Z') }),
    ];
    expect(findSentPost(posts, textPost, WINDOW)).toBe('early');
    expect(findSentPost([...posts].reverse(), textPost, WINDOW)).toBe('early');
  });

  it('of matching posts with the same time keeps the first listed', () => {
    expect(findSentPost([candidate({ id: 'first' }), candidate({ id: 'second' })], textPost, WINDOW)).toBe('first');
  });

  it('prefers a dated post over one without a time, in either order', () => {
    const undated = candidate({ id: 'undated', createdTime: undefined });
    const dated = candidate({ id: 'dated' });
    expect(findSentPost([undated, dated], textPost, WINDOW)).toBe('dated');
    expect(findSentPost([dated, undated], textPost, WINDOW)).toBe('dated');
  });

  it('skips posts that do not match before taking the earliest', () => {
    const posts = [candidate({ id: 'other', message: 'Other', createdTime: at('2026-12-02T09:00:00.500Z') }), candidate({ id: 'ours' })];
    expect(findSentPost(posts, textPost, WINDOW)).toBe('ours');
  });

  it('finds nothing in an empty Page', () => {
    expect(findSentPost([], textPost, WINDOW)).toBeUndefined();
  });

  describe('with our uploaded photos known', () => {
    const album = { message: 'Two loaves', mediaIds: ['ph1', 'ph2'], statusType: undefined };

    it('takes the post that carries one of them, whatever its text or time', () => {
      const posts = [candidate({ id: 'text-match', message: 'Two loaves' }), candidate({ id: 'album', message: 'edited', createdTime: at('2020-01-01T00:00:00Z'), mediaIds: ['x', 'ph2'] })];
      expect(findSentPost(posts, album, WINDOW)).toBe('album');
    });

    it('never falls back to the text: without our photos there is no match', () => {
      expect(findSentPost([candidate({ id: 'text-match', message: 'Two loaves', mediaIds: ['other'] })], album, WINDOW)).toBeUndefined();
    });
  });
});

const phase = (status?: string, errorMessage?: string) => ({ status, errorMessage });
const status = (videoStatus: string | undefined, overrides: Partial<VideoStatusView> = {}): VideoStatusView => ({
  videoStatus,
  uploading: phase('complete'),
  processing: phase('complete'),
  publishing: phase('complete'),
  ...overrides,
});

describe('videoReadiness', () => {
  it('is ready when Meta says ready and publishing completed or is not reported', () => {
    expect(videoReadiness(status('ready'))).toEqual({ state: 'ready' });
    expect(videoReadiness(status('ready', { publishing: phase(undefined) }))).toEqual({ state: 'ready' });
  });

  it('is still processing while publishing has not completed', () => {
    expect(videoReadiness(status('ready', { publishing: phase('in_progress') }))).toEqual({ state: 'processing' });
    expect(videoReadiness(status('ready', { publishing: phase('not_started') }))).toEqual({ state: 'processing' });
  });

  it('is still processing in the states before ready, an unknown state, or none', () => {
    for (const value of ['uploading', 'upload_complete', 'processing', 'published_somehow', undefined]) {
      expect(videoReadiness(status(value, { processing: phase('in_progress') }))).toEqual({ state: 'processing' });
    }
  });

  it("fails on Meta's final states with Meta's reason where it gave one", () => {
    expect(videoReadiness(status('error', { processing: phase('error', 'Video too long') }))).toEqual({ state: 'failed', videoStatus: 'error', reason: 'Video too long' });
    expect(videoReadiness(status('upload_failed', { uploading: phase('error', 'Unsupported format') }))).toEqual({ state: 'failed', videoStatus: 'upload_failed', reason: 'Unsupported format' });
  });

  it('explains each final state itself when Meta gave no reason', () => {
    expect(videoReadiness(status('error'))).toEqual({ state: 'failed', videoStatus: 'error', reason: 'Facebook could not process the video.' });
    expect(videoReadiness(status('expired'))).toEqual({ state: 'failed', videoStatus: 'expired', reason: 'The upload was never completed and expired.' });
    expect(videoReadiness(status('upload_failed'))).toEqual({ state: 'failed', videoStatus: 'upload_failed', reason: 'Facebook refused the uploaded file.' });
  });

  it('takes a reason from any phase, even one not in error', () => {
    expect(videoReadiness(status('expired', { publishing: phase('not_started', 'Session timed out') }))).toEqual({ state: 'failed', videoStatus: 'expired', reason: 'Session timed out' });
  });

  it('fails on a phase in error even when the overall state is not final', () => {
    expect(videoReadiness(status('processing', { processing: phase('error', 'Bad codec') }))).toEqual({ state: 'failed', videoStatus: 'error', reason: 'Bad codec' });
    expect(videoReadiness(status('ready', { publishing: phase('error') }))).toEqual({ state: 'failed', videoStatus: 'error', reason: 'Facebook could not process the video.' });
    expect(videoReadiness(status('ready', { uploading: phase('error', 'Partial file') }))).toEqual({ state: 'failed', videoStatus: 'error', reason: 'Partial file' });
  });

  it("names the erroring phase's reason before another phase's", () => {
    expect(videoReadiness(status('processing', { uploading: phase('complete', 'note'), processing: phase('error', 'Bad codec') }))).toMatchObject({ reason: 'Bad codec' });
  });
});

describe('pollDelayMs', () => {
  it('doubles from the first delay up to the cap', () => {
    expect([FIRST_POLL_MS, MAX_POLL_MS]).toEqual([2_000, 30_000]);
    expect([0, 1, 2, 3, 4, 5, 50].map(pollDelayMs)).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('treats a negative count as the first poll', () => {
    expect(pollDelayMs(-3)).toBe(2_000);
  });
});

describe('processingTooLong', () => {
  it('allows exactly the limit and no millisecond more', () => {
    expect(PROCESSING_LIMIT_MS).toBe(4 * 3_600_000);
    expect(processingTooLong(SENT, new Date(SENT.getTime() + PROCESSING_LIMIT_MS))).toBe(false);
    expect(processingTooLong(SENT, new Date(SENT.getTime() + PROCESSING_LIMIT_MS + 1))).toBe(true);
    expect(processingTooLong(SENT, SENT)).toBe(false);
  });
});
