import { z } from 'zod';
import { fields } from '@postwire/config';
import type { MediaProbeSettings } from '../domain/media-probe.ts';

/** Environment settings of request intake: the schedule check and the media probe. */
export const intakeFields = {
  /** A time this close behind the publisher's clock still counts as "now" (the gateway's clock may run ahead). */
  PUBLISHER_SCHEDULE_SKEW_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  /** Each HEAD / range GET of a media URL gives up after this long. */
  PUBLISHER_MEDIA_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Plain http media URLs; Meta fetches https in production. */
  PUBLISHER_MEDIA_ALLOW_HTTP: fields.boolean(false),
  /** Private, loopback and link-local media hosts (the sandbox's media host is 127.0.0.1 in dev and tests). */
  PUBLISHER_MEDIA_ALLOW_PRIVATE: fields.boolean(false),
};

type IntakeEnvironment = { readonly [Key in keyof typeof intakeFields]: z.output<(typeof intakeFields)[Key]> };

export type IntakeSettings = {
  readonly scheduleSkewMs: number;
  readonly mediaProbe: MediaProbeSettings;
};

export function toIntakeSettings(env: IntakeEnvironment): IntakeSettings {
  return {
    scheduleSkewMs: env.PUBLISHER_SCHEDULE_SKEW_MS,
    mediaProbe: {
      timeoutMs: env.PUBLISHER_MEDIA_PROBE_TIMEOUT_MS,
      allowHttp: env.PUBLISHER_MEDIA_ALLOW_HTTP,
      allowPrivate: env.PUBLISHER_MEDIA_ALLOW_PRIVATE,
      maxRedirects: 3,
    },
  };
}
