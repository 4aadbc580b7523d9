import { z } from 'zod';

/** Why a text is not an instant the API takes. */
export type InstantRefusal = 'offset-required' | 'invalid-date-time';

export type ParsedInstant = { readonly ok: true; readonly instant: string } | { readonly ok: false; readonly code: InstantRefusal };

const withOffset = z.iso.datetime({ offset: true });
const withoutOffset = z.iso.datetime({ local: true });

/**
 * An RFC 3339 date-time WITH its offset (`Z` or `±hh:mm`), as the UTC instant it names (ISO, `Z`,
 * milliseconds). A wall-clock time without an offset names no instant (09:00 where?), so it is refused
 * with its own code rather than read in the server's time zone, which would shift it by the server's
 * zone and, across a daylight-saving change, by an hour more or less.
 */
export function parseOffsetInstant(text: string): ParsedInstant {
  if (withOffset.safeParse(text).success) {
    // An explicit offset makes Date.parse independent of the process's TZ.
    return { ok: true, instant: new Date(Date.parse(text)).toISOString() };
  }
  return { ok: false, code: withoutOffset.safeParse(text).success ? 'offset-required' : 'invalid-date-time' };
}

/** What a caller reads for each refusal, naming the field. */
export function instantRefusalMessage(field: string, code: InstantRefusal): string {
  return code === 'offset-required'
    ? `${field} needs a UTC offset: end it with Z or ±hh:mm (e.g. 2026-03-08T09:00:00-05:00); a time without one names no instant`
    : `${field} must be an RFC 3339 date-time with an offset, e.g. 2026-03-08T09:00:00Z`;
}

/**
 * A request field holding an instant: validated by parseOffsetInstant, normalised to UTC. A refusal is a
 * zod issue whose `params.code` is the stable problem code (offset-required / invalid-date-time).
 */
export function offsetInstant(field: string) {
  return z
    .string()
    .max(64)
    .transform((text, context) => {
      const parsed = parseOffsetInstant(text);
      if (parsed.ok) return parsed.instant;
      context.addIssue({ code: 'custom', message: instantRefusalMessage(field, parsed.code), params: { code: parsed.code } });
      return z.NEVER;
    })
    .meta({
      format: 'date-time',
      description: 'RFC 3339 date-time with an offset (`Z` or `±hh:mm`); a time without an offset is refused (400 `offset-required`)',
      // `example`: zod leaves `examples` out of a schema with a transform.
      example: '2026-03-08T09:00:00-05:00',
    });
}
