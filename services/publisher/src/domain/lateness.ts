export type LatenessVerdict =
  | { readonly kind: 'on-time' }
  | { readonly kind: 'late'; readonly lateByMs: number }
  | { readonly kind: 'missed'; readonly lateByMs: number; readonly message: string };

/**
 * Whether a post first claimed at `claimedAt` still goes out. After downtime, posts whose time passed publish at
 * once up to `maxLatenessMs` late (inclusive); later than that they fail with a reason, never silently dropped.
 * A post without a time (publish now) is never late.
 */
export function lateness(scheduledFor: Date | null, claimedAt: Date, maxLatenessMs: number): LatenessVerdict {
  if (scheduledFor === null) return { kind: 'on-time' };
  const lateByMs = claimedAt.getTime() - scheduledFor.getTime();
  if (lateByMs <= 0) return { kind: 'on-time' };
  if (lateByMs <= maxLatenessMs) return { kind: 'late', lateByMs };
  return {
    kind: 'missed',
    lateByMs,
    message: `The post missed its window: it was scheduled for ${scheduledFor.toISOString()} and could not start within ${formatDuration(maxLatenessMs)} of that time. Reschedule or retry it.`,
  };
}

/** 3600000 -> "1 h", 5400000 -> "1 h 30 min", 90000 -> "1 min 30 s", 500 -> "500 ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts = [hours > 0 ? `${hours} h` : '', minutes > 0 ? `${minutes} min` : '', seconds > 0 ? `${seconds} s` : ''].filter((part) => part !== '');
  return parts.join(' ');
}
