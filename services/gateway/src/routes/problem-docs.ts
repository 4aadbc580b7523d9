import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '@postwire/service-kit';

/**
 * An RFC 9457 problem as the OpenAPI document describes it (components.schemas.Problem). Loose on
 * purpose: the same schema also serialises the error answers of a route, and a problem may carry
 * extensions (postId, requestEventId...).
 */
export const Problem = z
  .looseObject({
    type: z.string().describe('A URI naming the kind of problem: https://postwire.dev/problems/{code}, or about:blank for a 5xx'),
    code: z.string().optional().describe('Stable kebab-case code (the last segment of `type`)'),
    title: z.string().describe('A short summary of the kind of problem'),
    status: z.int().describe('The HTTP status code'),
    detail: z.string().optional().describe('What went wrong this time, in words a person can act on'),
    instance: z
      .string()
      .describe('This occurrence: the request path (without the query string); a `urn:uuid:` when the request line could not be read'),
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
        instance: '/v1/posts',
        requestId: '9b2f7c4e-5d1a-4e8b-a3c6-7f0e1d2c3b4a',
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

/** The statuses a route may document as problems; each only where it can happen. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 406 | 409 | 412 | 422 | 429 | 500 | 502 | 503 | 504;

const MEANINGS: Readonly<Record<ProblemStatus, string>> = {
  400: 'Invalid request: `errors` names each wrong field with a code',
  401: 'No valid bearer token',
  403: "The token's organisation is not the user's",
  404: 'No such post (or account) in your organisation',
  406: 'The Accept header takes none of the media types this operation answers with',
  409: 'The request conflicts with the current state',
  412: 'The resource changed since the version named by If-Match',
  422: 'The publisher refused the request: `errors` lists every violation (`code` `post-rejected`)',
  429: 'Too many requests: wait as Retry-After says',
  500: 'Something failed on our side: quote `requestId` when you report it',
  502: 'The service that owns the data answered unusably',
  503: 'The service that owns the data, or Kafka, is not reachable: nothing was applied, try again',
  504: 'The service that owns the data did not answer in time',
};

/** The problem answers a route documents, each as application/problem+json (the shared Problem schema). */
export function problemResponses(...statuses: readonly ProblemStatus[]) {
  return Object.fromEntries(statuses.map((status) => [status, problemResponse(status)]));
}

/** One documented problem answer, with a meaning of the route's own when the generic one does not fit. */
export function problemResponse(status: ProblemStatus, description: string = MEANINGS[status]) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } };
}

/** A response header as the document declares it. */
export type HeaderDoc = { readonly type: 'string' | 'integer'; readonly description: string };

/**
 * A documented answer with a body: its meaning, its headers (Location on a 202...) and its schema.
 * The OpenAPI plugin carries `headers` into the document (the zod transform alone drops them).
 */
export function jsonResponse<Schema extends z.ZodType>(schema: Schema, description: string, headers?: Readonly<Record<string, HeaderDoc>>) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}

/** Where a 202 (or a 201) says the resource is read. */
export const locationHeader = (description: string): Record<string, HeaderDoc> => ({ Location: { type: 'string', description } });
