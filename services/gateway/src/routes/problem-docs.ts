import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '@postwire/service-kit';

/**
 * An RFC 9457 problem as the OpenAPI document describes it. Loose on purpose: the same schema also
 * serialises the error answers of a route, and a problem may carry extensions (postId, requestEventId...).
 */
export const Problem = z
  .looseObject({
    type: z.string(),
    code: z.string().optional().describe('Stable kebab-case code (the last segment of `type`)'),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional().describe('This HTTP request, as the logs name it'),
    requestEventId: z.string().optional().describe('The request event on Kafka, when one was sent'),
    errors: z
      .array(
        z.looseObject({
          location: z.string().optional().describe('body, querystring, params or headers'),
          field: z.string().describe('The wrong field, e.g. `scheduledFor` or `media[1].altText`'),
          code: z.string().describe('Stable kebab-case code, e.g. `offset-required`'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('Every wrong field (400) or every violation the publisher found (422)'),
  })
  .meta({
    examples: [
      {
        type: 'https://postwire.dev/problems/invalid-request',
        code: 'invalid-request',
        title: 'Invalid request',
        status: 400,
        detail: 'body/scheduledFor needs a UTC offset',
        errors: [
          {
            location: 'body',
            field: 'scheduledFor',
            code: 'offset-required',
            message: 'scheduledFor needs a UTC offset: end it with Z or ±hh:mm (e.g. 2026-03-08T09:00:00-05:00); a time without one names no instant',
          },
        ],
      },
    ],
  });

const MEANINGS: Readonly<Record<number, string>> = {
  400: 'Invalid request: `errors` names each wrong field with a code',
  401: 'No valid bearer token',
  403: "The token's organisation is not the user's",
  404: 'No such post (or account) in your organisation',
  422: 'The publisher refused the request: `errors` lists every violation (`code` `post-rejected`)',
  502: 'The publisher answered unusably',
  503: 'The publisher or Kafka is not reachable',
  504: 'The publisher did not answer in time',
};

/** The problem answers a route documents, each as application/problem+json. */
export function problemResponses(...statuses: readonly (400 | 401 | 403 | 404 | 422 | 502 | 503 | 504)[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: MEANINGS[status] ?? 'Problem', content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } }]),
  );
}
