import { z } from 'zod';

/**
 * Bearer tokens are verified either with a shared HS256 secret (Supabase's JWT secret, for one) or
 * against a JWKS endpoint (RS256 / ES256). Exactly one of the two must be configured.
 */
export const authFields = {
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().min(1).optional(),
    JWT_AUDIENCE: z.string().min(1).default('authenticated'),
    // Where the organisation id sits in the token, as a dotted path (e.g. app_metadata.organisation_id).
    JWT_ORGANISATION_CLAIM: z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'must be a dotted claim path').default('organisation_id'),
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
};

type AuthFields = z.output<z.ZodObject<typeof authFields>>;

/** For a service schema that spreads `authFields`: exactly one key source must be set. */
export function checkAuthFields(env: AuthFields, context: z.RefinementCtx): void {
  if (Boolean(env.JWT_SECRET) === Boolean(env.JWT_JWKS_URL)) {
    context.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'set exactly one of JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256)' });
  }
}

export function toAuthSettings(env: AuthFields): AuthSettings {
  return {
    key: env.JWT_SECRET ? { kind: 'secret', secret: env.JWT_SECRET } : { kind: 'jwks', url: env.JWT_JWKS_URL ?? '' },
    ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    audience: env.JWT_AUDIENCE,
    organisationClaim: env.JWT_ORGANISATION_CLAIM,
    clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
  };
}

export const authEnvironment = z.object(authFields).superRefine(checkAuthFields).transform(toAuthSettings);

export type AuthSettings = {
  readonly key: { readonly kind: 'secret'; readonly secret: string } | { readonly kind: 'jwks'; readonly url: string };
  readonly issuer?: string;
  readonly audience: string;
  readonly organisationClaim: string;
  readonly clockToleranceSeconds: number;
};
