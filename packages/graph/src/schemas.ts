import { z } from 'zod';

/**
 * Answer shapes we rely on. Objects are not strict: Meta adds fields freely, and only what we read must hold.
 * Ids are accepted as numbers too (Instagram Login's code exchange sends `user_id` as a JSON number) and turned
 * into strings; the client quotes long integers before parsing so they never lose precision.
 */
export const graphId = z.union([z.string().min(1), z.number().int()]).transform(String);

export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.number().int().optional(),
});

export const pagingSchema = z
  .object({
    cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
    next: z.string().optional(),
  })
  .optional();

export const pageEntry = z.object({
  id: graphId,
  name: z.string(),
  access_token: z.string().min(1),
  category: z.string().optional(),
  tasks: z.array(z.string()).optional(),
});

export const pageList = z.object({ data: z.array(pageEntry), paging: pagingSchema });

export const pageInstagram = z.object({
  id: graphId.optional(),
  instagram_business_account: z.object({ id: graphId }).optional(),
});

export const instagramProfileAnswer = z.object({
  id: graphId,
  username: z.string(),
  name: z.string().optional(),
  profile_picture_url: z.string().optional(),
  account_type: z.string().optional(),
});

export const instagramMeAnswer = z.object({
  id: graphId,
  user_id: graphId.optional(),
  username: z.string(),
  name: z.string().optional(),
  account_type: z.string().optional(),
  profile_picture_url: z.string().optional(),
});

export const permissionsAnswer = z.object({
  data: z.array(z.object({ permission: z.string(), status: z.string() })),
});

export const debugTokenAnswer = z.object({
  data: z.object({
    app_id: graphId.optional(),
    type: z.string().optional(),
    application: z.string().optional(),
    is_valid: z.boolean(),
    expires_at: z.number().int().optional(),
    data_access_expires_at: z.number().int().optional(),
    issued_at: z.number().int().optional(),
    scopes: z.array(z.string()).default([]),
    granular_scopes: z.array(z.object({ scope: z.string(), target_ids: z.array(graphId).optional() })).default([]),
    user_id: graphId.optional(),
    profile_id: graphId.optional(),
    error: z.object({ code: z.number().int().optional(), subcode: z.number().int().optional(), message: z.string().optional() }).optional(),
  }),
});

const instagramTokenEntry = z.object({
  access_token: z.string().min(1),
  user_id: graphId,
  // `"a,b"` in the documented shape, an array in the flat one some clients see.
  permissions: z.union([z.string(), z.array(z.string())]).optional(),
});

export const instagramCodeAnswer = z.union([
  z.object({ data: z.array(instagramTokenEntry).min(1) }).transform((answer) => answer.data[0] as z.output<typeof instagramTokenEntry>),
  instagramTokenEntry,
]);

export const idAnswer = z.object({ id: graphId });

export const containerAnswer = z.object({ id: graphId, uri: z.string().optional() });

export const containerStatusAnswer = z.object({
  id: graphId,
  // Meta has been seen answering an error text in `status` with an empty `status_code` [2nd]: read as absent.
  status_code: z
    .enum(['IN_PROGRESS', 'FINISHED', 'PUBLISHED', 'ERROR', 'EXPIRED'])
    .or(z.literal('').transform(() => undefined))
    .optional(),
  status: z.string().optional(),
});

export const publishingLimitAnswer = z.object({
  data: z.array(
    z.object({
      quota_usage: z.number().int(),
      config: z.object({ quota_total: z.number().int(), quota_duration: z.number().int() }).optional(),
    }),
  ),
});

export const mediaInfoAnswer = z.object({
  id: graphId,
  permalink: z.string().optional(),
  shortcode: z.string().optional(),
  timestamp: z.string().optional(),
  media_type: z.string().optional(),
  media_product_type: z.string().optional(),
  like_count: z.number().int().optional(),
  comments_count: z.number().int().optional(),
});

export const accountMediaEntry = z.object({
  id: graphId,
  caption: z.string().optional(),
  timestamp: z.string().optional(),
  media_type: z.string().optional(),
  media_product_type: z.string().optional(),
  permalink: z.string().optional(),
});

export const accountMediaList = z.object({ data: z.array(accountMediaEntry), paging: pagingSchema });

export const insightsAnswer = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      period: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      values: z.array(z.object({ value: z.unknown() })).optional(),
      total_value: z.object({ value: z.unknown() }).optional(),
    }),
  ),
});

export const successAnswer = z.object({ success: z.boolean() });
