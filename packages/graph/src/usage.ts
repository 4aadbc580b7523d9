/**
 * Meta's usage headers and what to do about them. `X-App-Usage` is the app's share of its hourly budget;
 * `X-Business-Use-Case-Usage` is per Page or Instagram account, with Meta's estimate (in minutes) of when
 * calls will be accepted again once a budget is spent. All figures are percentages.
 */

export type AppUsage = {
  readonly callCount: number;
  readonly totalCputime: number;
  readonly totalTime: number;
};

export type BusinessUseCaseUsage = {
  readonly type: string;
  readonly callCount: number;
  readonly totalCputime: number;
  readonly totalTime: number;
  /** Minutes, as Meta sends it; 0 while not throttled. */
  readonly estimatedTimeToRegainAccess: number;
};

export type UsageSnapshot = {
  readonly app: AppUsage | undefined;
  /** Keyed by the business object id (Page or Instagram account). */
  readonly business: Readonly<Record<string, readonly BusinessUseCaseUsage[]>>;
};

function percentage(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(number) && number >= 0 ? number : 0;
}

function parseJson(header: string | null | undefined): unknown {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  try {
    return JSON.parse(header) as unknown;
  } catch {
    // A malformed header must never fail the call that carried it.
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseAppUsage(header: string | null | undefined): AppUsage | undefined {
  const value = parseJson(header);
  if (!isRecord(value)) return undefined;
  return { callCount: percentage(value.call_count), totalCputime: percentage(value.total_cputime), totalTime: percentage(value.total_time) };
}

export function parseBusinessUseCaseUsage(header: string | null | undefined): Record<string, BusinessUseCaseUsage[]> {
  const value = parseJson(header);
  const result: Record<string, BusinessUseCaseUsage[]> = {};
  if (!isRecord(value)) return result;
  for (const [id, entries] of Object.entries(value)) {
    if (!Array.isArray(entries)) continue;
    result[id] = entries.filter(isRecord).map((entry) => ({
      type: typeof entry.type === 'string' ? entry.type : 'unknown',
      callCount: percentage(entry.call_count),
      totalCputime: percentage(entry.total_cputime),
      totalTime: percentage(entry.total_time),
      estimatedTimeToRegainAccess: percentage(entry.estimated_time_to_regain_access),
    }));
  }
  return result;
}

export function readUsage(headers: Headers): UsageSnapshot {
  return {
    app: parseAppUsage(headers.get('x-app-usage')),
    business: parseBusinessUseCaseUsage(headers.get('x-business-use-case-usage')),
  };
}

export function hasUsage(snapshot: UsageSnapshot): boolean {
  return snapshot.app !== undefined || Object.keys(snapshot.business).length > 0;
}

/** The highest of every percentage in the snapshot (0 when there is none). */
export function highestUsagePercent(snapshot: UsageSnapshot): number {
  let highest = snapshot.app ? Math.max(snapshot.app.callCount, snapshot.app.totalCputime, snapshot.app.totalTime) : 0;
  for (const entries of Object.values(snapshot.business)) {
    for (const entry of entries) highest = Math.max(highest, entry.callCount, entry.totalCputime, entry.totalTime);
  }
  return highest;
}

/** Meta's own estimate of when access returns, the longest across business objects; undefined when it gave none. */
export function retryAfterMs(snapshot: UsageSnapshot): number | undefined {
  let minutes = 0;
  for (const entries of Object.values(snapshot.business)) {
    for (const entry of entries) minutes = Math.max(minutes, entry.estimatedTimeToRegainAccess);
  }
  return minutes > 0 ? minutes * 60_000 : undefined;
}

export type UsagePolicyOptions = {
  /** Start spacing calls out at this percentage (default 80). */
  readonly slowDownAtPercent?: number;
  /** The longest pause slowing down adds, reached just below 100 % (default 30 s). */
  readonly maxSlowDownMs?: number;
  /** How long to stop when a budget is spent and Meta gave no estimate (default 5 min). */
  readonly stopWithoutEstimateMs?: number;
};

export type UsageAdvice =
  | { readonly action: 'proceed'; readonly delayMs: 0; readonly percent: number }
  | { readonly action: 'slow-down'; readonly delayMs: number; readonly percent: number }
  | { readonly action: 'stop'; readonly delayMs: number; readonly percent: number };

/**
 * Proceed below the threshold; above it, wait longer the closer usage gets to 100 % (linear up to
 * `maxSlowDownMs`); at 100 % (or after a rate-limit error, `rateLimited`) stop until Meta's regain estimate.
 * Meta throttles for a while once 100 % is crossed, so slowing down early keeps the budget from ever running out.
 */
export function adviseUsage(snapshot: UsageSnapshot, options: UsagePolicyOptions & { rateLimited?: boolean } = {}): UsageAdvice {
  const threshold = options.slowDownAtPercent ?? 80;
  const maxSlowDownMs = options.maxSlowDownMs ?? 30_000;
  const percent = highestUsagePercent(snapshot);
  if (options.rateLimited === true || percent >= 100) {
    return { action: 'stop', delayMs: retryAfterMs(snapshot) ?? options.stopWithoutEstimateMs ?? 300_000, percent };
  }
  if (percent < threshold) return { action: 'proceed', delayMs: 0, percent };
  const share = threshold >= 100 ? 1 : (percent - threshold) / (100 - threshold);
  return { action: 'slow-down', delayMs: Math.round(maxSlowDownMs * Math.min(1, Math.max(0, share))), percent };
}
