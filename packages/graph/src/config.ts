import { z } from 'zod';
import { fields } from '@postwire/config';

/**
 * Where Meta calls go. Without real app credentials every host defaults to the local sandbox
 * (infra/meta-sandbox) and the app id/secret to its seeded dev app, so a fresh checkout runs end to end
 * without a Meta app. With META_APP_ID and META_APP_SECRET set, the defaults become Meta's real hosts.
 * An explicitly configured base URL always wins, in either mode.
 */
export const META_HOSTS = {
  graph: 'https://graph.facebook.com',
  graphVideo: 'https://graph-video.facebook.com',
  instagramGraph: 'https://graph.instagram.com',
  instagramApi: 'https://api.instagram.com',
  rupload: 'https://rupload.facebook.com',
  facebookDialog: 'https://www.facebook.com',
  instagramDialog: 'https://www.instagram.com',
} as const;

/** The sandbox's seeded dev app (infra/meta-sandbox README); not a secret of any real app. */
export const SANDBOX_APP = { id: '1000000000000001', secret: 'sandbox-dev-app-secret-0001' } as const;
export const DEFAULT_SANDBOX_URL = 'http://127.0.0.1:4010';
export const DEFAULT_GRAPH_VERSION = 'v25.0';

const baseUrl = z
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''))
  .optional();

const percent = (fallback: number) => z.coerce.number().min(1).max(100).default(fallback);

export const graphFields = {
  // Pinned in config only: Meta retires a version about two years after its successor ships.
  META_GRAPH_VERSION: z.string().regex(/^v\d{2}\.0$/, 'must look like v25.0').default(DEFAULT_GRAPH_VERSION),
  META_APP_ID: z.string().regex(/^\d{6,20}$/, 'must be a numeric app id').optional(),
  // The message never echoes the value: zod's min-length message does not include it.
  META_APP_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  META_LOGIN_CONFIG_ID: z.string().regex(/^\d{6,20}$/, 'must be a numeric Login for Business configuration id').optional(),
  META_SANDBOX_URL: fields.url(DEFAULT_SANDBOX_URL).transform((value) => value.replace(/\/+$/, '')),
  GRAPH_BASE_URL: baseUrl,
  GRAPH_VIDEO_BASE_URL: baseUrl,
  INSTAGRAM_GRAPH_BASE_URL: baseUrl,
  INSTAGRAM_API_BASE_URL: baseUrl,
  RUPLOAD_BASE_URL: baseUrl,
  FACEBOOK_DIALOG_BASE_URL: baseUrl,
  INSTAGRAM_DIALOG_BASE_URL: baseUrl,
  GRAPH_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(30_000),
  // Uploads (rupload, graph-video) move whole files, so they get a longer budget than API calls.
  GRAPH_UPLOAD_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(300_000),
  GRAPH_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  GRAPH_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  GRAPH_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  GRAPH_APPSECRET_PROOF: fields.boolean(true),
  GRAPH_USAGE_SLOW_DOWN_PERCENT: percent(80),
};

type GraphFields = z.output<z.ZodObject<typeof graphFields>>;

/** For a service schema that spreads `graphFields`: the app id and secret come as a pair or not at all. */
export function checkGraphFields(env: GraphFields, context: z.RefinementCtx): void {
  const hasId = env.META_APP_ID !== undefined;
  const hasSecret = env.META_APP_SECRET !== undefined;
  if (hasId && !hasSecret) {
    context.addIssue({ code: 'custom', path: ['META_APP_SECRET'], message: 'is required when META_APP_ID is set (or unset both to use the sandbox)' });
  }
  if (hasSecret && !hasId) {
    context.addIssue({ code: 'custom', path: ['META_APP_ID'], message: 'is required when META_APP_SECRET is set (or unset both to use the sandbox)' });
  }
}

export type GraphBaseUrls = {
  readonly graph: string;
  readonly graphVideo: string;
  readonly instagramGraph: string;
  readonly instagramApi: string;
  readonly rupload: string;
  readonly facebookDialog: string;
  readonly instagramDialog: string;
};

export type GraphSettings = {
  /** Which defaults applied: Meta's hosts (real credentials configured) or the sandbox. */
  readonly target: 'meta' | 'sandbox';
  readonly version: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly loginConfigId?: string;
  readonly baseUrls: GraphBaseUrls;
  readonly timeoutMs: number;
  readonly uploadTimeoutMs: number;
  readonly retry: { readonly maxRetries: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly appsecretProof: boolean;
  readonly usage: { readonly slowDownAtPercent: number };
};

export function toGraphSettings(env: GraphFields): GraphSettings {
  const target = env.META_APP_ID !== undefined && env.META_APP_SECRET !== undefined ? 'meta' : 'sandbox';
  const fallback = (host: keyof typeof META_HOSTS) => (target === 'meta' ? META_HOSTS[host] : env.META_SANDBOX_URL);
  return {
    target,
    version: env.META_GRAPH_VERSION,
    appId: target === 'meta' ? (env.META_APP_ID ?? '') : SANDBOX_APP.id,
    appSecret: target === 'meta' ? (env.META_APP_SECRET ?? '') : SANDBOX_APP.secret,
    ...(env.META_LOGIN_CONFIG_ID === undefined ? {} : { loginConfigId: env.META_LOGIN_CONFIG_ID }),
    baseUrls: {
      graph: env.GRAPH_BASE_URL ?? fallback('graph'),
      graphVideo: env.GRAPH_VIDEO_BASE_URL ?? fallback('graphVideo'),
      instagramGraph: env.INSTAGRAM_GRAPH_BASE_URL ?? fallback('instagramGraph'),
      instagramApi: env.INSTAGRAM_API_BASE_URL ?? fallback('instagramApi'),
      rupload: env.RUPLOAD_BASE_URL ?? fallback('rupload'),
      facebookDialog: env.FACEBOOK_DIALOG_BASE_URL ?? fallback('facebookDialog'),
      instagramDialog: env.INSTAGRAM_DIALOG_BASE_URL ?? fallback('instagramDialog'),
    },
    timeoutMs: env.GRAPH_TIMEOUT_MS,
    uploadTimeoutMs: env.GRAPH_UPLOAD_TIMEOUT_MS,
    retry: { maxRetries: env.GRAPH_MAX_RETRIES, baseDelayMs: env.GRAPH_RETRY_BASE_DELAY_MS, maxDelayMs: env.GRAPH_RETRY_MAX_DELAY_MS },
    appsecretProof: env.GRAPH_APPSECRET_PROOF,
    usage: { slowDownAtPercent: env.GRAPH_USAGE_SLOW_DOWN_PERCENT },
  };
}

export const graphEnvironment = z.object(graphFields).superRefine(checkGraphFields).transform(toGraphSettings);
