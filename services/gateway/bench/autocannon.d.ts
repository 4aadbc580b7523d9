// The part of autocannon 8's API the bench uses (the package ships no types).
declare module 'autocannon' {
  type Histogram = { readonly average: number; readonly total: number; readonly p50: number; readonly p99: number };
  type Options = {
    readonly url: string;
    readonly method?: 'GET' | 'POST';
    readonly headers?: Record<string, string>;
    readonly body?: string;
    readonly connections?: number;
    readonly duration?: number;
    readonly overallRate?: number;
  };
  type Result = {
    readonly requests: Histogram;
    readonly latency: Histogram;
    readonly non2xx: number;
    readonly errors: number;
    readonly timeouts: number;
    readonly statusCodeStats: Record<string, { readonly count: number }>;
  };
  export default function autocannon(options: Options): Promise<Result>;
}
