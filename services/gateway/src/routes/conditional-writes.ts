import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ProblemError } from '@postwire/service-kit';
import { type EntityTag, type TagCondition, matchHolds, parseTagCondition } from '../domain/entity-tags.ts';
import { ETAG_HEADER } from '../plugins/conditional-reads.ts';
import { problemResponse } from './problem-docs.ts';

/** The If-Match request header of a change, as its route validates and documents it. */
export const IF_MATCH_HEADER = {
  'if-match': z
    .string()
    .max(4096)
    .optional()
    .describe(
      'The ETag of the version you read (or several, comma-separated): the change applies only while the resource is still at ' +
        'one of them, otherwise 412 with the current ETag. `*` applies it to whatever version exists. Optional.',
    ),
};

type Responses = Readonly<Record<number, object>>;

/** A change's answers as documented: its 200 names the new version (ETag), and a stale If-Match is 412. */
export function versionedResponses(responses: Responses) {
  const ok = responses[200] as { headers?: object } | undefined;
  return {
    ...responses,
    ...(ok ? { 200: { ...ok, headers: { ...ok.headers, ETag: ETAG_HEADER.ETag } } } : {}),
    412: {
      ...problemResponse(412, 'If-Match names none of the current version (`precondition-failed`): nothing was applied; the ETag header names the current one'),
      headers: { ETag: { type: 'string', description: 'The current version: read the resource again before deciding' } },
    },
  };
}

/** The If-Match header as a condition (undefined when absent), or a 400 problem naming it. */
export function checkIfMatch(field: string | readonly string[] | undefined): TagCondition | undefined {
  const parsed = parseTagCondition(field);
  if (parsed.ok) return parsed.condition;
  const message = `If-Match ${parsed.message}`;
  throw new ProblemError(400, 'invalid-request', 'Invalid request', message, {
    errors: [{ location: 'headers', field: 'If-Match', code: 'invalid-if-match', message }],
  });
}

/**
 * If-Match against the resource's current version: a 412 problem (the answer naming the current version)
 * when it does not hold; otherwise the version the write must still find (none for `*`, which only asks
 * that the resource exists).
 */
export function expectedVersion(condition: TagCondition, current: EntityTag | undefined, reply: FastifyReply): { expectedVersion?: string } {
  if (!matchHolds(condition, current)) {
    if (current) reply.versionedBy(current);
    throw new ProblemError(412, 'precondition-failed', 'Precondition Failed', 'The resource changed since the version If-Match names; nothing was applied.');
  }
  return condition.any || current === undefined ? {} : { expectedVersion: current.opaque };
}
