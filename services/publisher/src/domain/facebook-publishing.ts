/**
 * Rules of Facebook Page publishing that need no I/O: which of a Page's recent posts is the one a write with a
 * lost answer created, whether a video is ready, how long to wait before looking again.
 */

/** What Meta's clock and ours may disagree by: the reconciliation window is widened by it on both sides. */
export const CLOCK_SKEW_MS = 60_000;
/** A video still processing this long after it was handed over is treated as stuck (Meta's own sessions expire after a day). */
export const PROCESSING_LIMIT_MS = 4 * 60 * 60 * 1000;
/**
 * How long after a lost answer a post may take to show in the Page's post list (reads lag writes; the reference's
 * 100/33 on fresh objects). Before this has passed, finding nothing is no proof, so the flow looks again later.
 */
export const SETTLE_MS = 10_000;
/**
 * A Page video's post may show only once Meta has processed the file (minutes), so a lost video answer is looked
 * for longer before the video is sent again: a late resend is a delay, an early one a second video.
 */
export const VIDEO_SETTLE_MS = 5 * 60_000;
export const FIRST_POLL_MS = 2_000;
export const MAX_POLL_MS = 30_000;

/** A Page post as reconciliation sees it (the graph client's PagePostSummary). */
export type PostCandidate = {
  readonly id: string;
  readonly message: string | undefined;
  readonly createdTime: Date | undefined;
  readonly statusType: string | undefined;
  readonly mediaIds: readonly string[];
};

export type SentPost = {
  /** The text the write carried (message or caption); undefined for none. */
  readonly message: string | undefined;
  /** Photos we uploaded and attached: a post carrying one of them is ours whatever its text. */
  readonly mediaIds: readonly string[];
  /** Meta's `status_type` for this kind of post, checked only when Meta reports one. */
  readonly statusType: string | undefined;
};

export type TimeWindow = { readonly since: Date; readonly until: Date };

/** Where to look for a write sent at `sentAt`: from just before it was sent until now, widened by the clock skew. */
export function reconcileWindow(sentAt: Date, now: Date): TimeWindow {
  return { since: new Date(sentAt.getTime() - CLOCK_SKEW_MS), until: new Date(Math.max(now.getTime(), sentAt.getTime()) + CLOCK_SKEW_MS) };
}

/** How much longer to wait before "not on the Page" can be believed for a write sent at `sentAt` (0: now). */
export function settleRemainingMs(sentAt: Date, now: Date, settleMs: number = SETTLE_MS): number {
  return Math.max(0, settleMs - (now.getTime() - sentAt.getTime()));
}

/** Meta stores text with `\n` line ends and without surrounding blanks. */
export function normaliseMessage(message: string | undefined): string {
  return (message ?? '').replace(/\r\n?/g, '\n').trim();
}

/**
 * The post a sent write created, if the Page has it. With our uploaded photos known, only a post carrying one of
 * them is ours (the ids are unique to this attempt). Otherwise the text must be equal, the creation time inside
 * the window and the kind (status_type) the same where Meta says it; of several such posts the earliest is taken,
 * since a duplicate made later cannot be ours to publish again.
 */
export function findSentPost(candidates: readonly PostCandidate[], sent: SentPost, window: TimeWindow): string | undefined {
  if (sent.mediaIds.length > 0) {
    const ours = new Set(sent.mediaIds);
    return candidates.find((candidate) => candidate.mediaIds.some((id) => ours.has(id)))?.id;
  }
  const text = normaliseMessage(sent.message);
  const matches = candidates.filter(
    (candidate) =>
      normaliseMessage(candidate.message) === text &&
      (candidate.createdTime === undefined || (candidate.createdTime >= window.since && candidate.createdTime <= window.until)) &&
      (sent.statusType === undefined || candidate.statusType === undefined || candidate.statusType === sent.statusType),
  );
  let earliest: PostCandidate | undefined;
  for (const candidate of matches) {
    if (earliest === undefined || (candidate.createdTime?.getTime() ?? Infinity) < (earliest.createdTime?.getTime() ?? Infinity)) earliest = candidate;
  }
  return earliest?.id;
}

/** What a video's `status` says (the graph client's PageVideoStatus, reduced to what decides). */
export type VideoStatusView = {
  readonly videoStatus: string | undefined;
  readonly uploading: { readonly status: string | undefined; readonly errorMessage: string | undefined };
  readonly processing: { readonly status: string | undefined; readonly errorMessage: string | undefined };
  readonly publishing: { readonly status: string | undefined; readonly errorMessage: string | undefined };
};

export type VideoReadiness =
  | { readonly state: 'ready' }
  | { readonly state: 'processing' }
  | { readonly state: 'failed'; readonly videoStatus: string; readonly reason: string };

const FAILED_STATUS_REASONS: Readonly<Record<string, string>> = {
  error: 'Facebook could not process the video.',
  expired: 'The upload was never completed and expired.',
  upload_failed: 'Facebook refused the uploaded file.',
};

/**
 * Ready once processing is done and (where Meta reports it) publishing completed; failed on Meta's final
 * states (`error`, `expired`, `upload_failed`) or a phase in error; anything else, including states Meta may add,
 * is still processing.
 */
export function videoReadiness(status: VideoStatusView): VideoReadiness {
  const value = status.videoStatus ?? '';
  const phaseError = [status.uploading, status.processing, status.publishing].find((phase) => phase.status === 'error');
  const failedReason = FAILED_STATUS_REASONS[value];
  if (failedReason !== undefined || phaseError !== undefined) {
    const detail = phaseError?.errorMessage ?? [status.uploading, status.processing, status.publishing].find((phase) => phase.errorMessage !== undefined)?.errorMessage;
    return { state: 'failed', videoStatus: failedReason === undefined ? 'error' : value, reason: detail ?? failedReason ?? 'Facebook could not process the video.' };
  }
  if (value === 'ready' && (status.publishing.status === undefined || status.publishing.status === 'complete')) return { state: 'ready' };
  return { state: 'processing' };
}

/** The wait before the next status check: doubling from FIRST_POLL_MS, at most MAX_POLL_MS. */
export function pollDelayMs(pollsSoFar: number): number {
  return Math.min(MAX_POLL_MS, FIRST_POLL_MS * 2 ** Math.max(0, Math.min(pollsSoFar, 10)));
}

/** A video handed over at `since` and not ready by now has been processing too long. */
export function processingTooLong(since: Date, now: Date): boolean {
  return now.getTime() - since.getTime() > PROCESSING_LIMIT_MS;
}
