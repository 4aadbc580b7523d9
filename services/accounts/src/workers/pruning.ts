import { fields } from '@postwire/config';
import { type PruningOptions, pruningPlugin } from '@postwire/service-kit';
import { z } from 'zod';
import { ACCOUNTS } from '../service.ts';

const HOUR_MS = 3_600_000;
const hours = (fallback: number) => z.coerce.number().int().min(1).max(24 * 365).default(fallback);

/** Environment settings of the pruning workers. */
export const pruningFields = {
  /** 0 turns pruning off on this instance. */
  ACCOUNTS_PRUNE_INTERVAL_MS: fields.durationMs(HOUR_MS),
  /** Longer than Kafka keeps the request topic (7 days by default): an id is forgotten only once it cannot come back. */
  ACCOUNTS_INBOX_RETENTION_HOURS: hours(8 * 24),
  /** Sent outbox rows are kept this long for inspection and replays. */
  ACCOUNTS_SENT_OUTBOX_RETENTION_HOURS: hours(24),
  /** A notice is needed until its token's expiry has passed (no threshold can be crossed again after it). */
  ACCOUNTS_EXPIRY_NOTICE_RETENTION_HOURS: hours(24),
};

type PruningEnvironment = { readonly [Key in keyof typeof pruningFields]: z.output<(typeof pruningFields)[Key]> };

export function toPruningSettings(env: PruningEnvironment): PruningOptions {
  return {
    intervalMs: env.ACCOUNTS_PRUNE_INTERVAL_MS,
    targets: [
      { name: 'inbox', table: [ACCOUNTS.schema, 'inbox'], column: 'processed_at', retentionMs: env.ACCOUNTS_INBOX_RETENTION_HOURS * HOUR_MS },
      { name: 'outbox', table: [ACCOUNTS.schema, 'outbox'], column: 'sent_at', retentionMs: env.ACCOUNTS_SENT_OUTBOX_RETENTION_HOURS * HOUR_MS },
      {
        name: 'expiry-notices',
        table: [ACCOUNTS.schema, 'token_expiry_notices'],
        column: 'token_expires_at',
        retentionMs: env.ACCOUNTS_EXPIRY_NOTICE_RETENTION_HOURS * HOUR_MS,
      },
    ],
  };
}

export { pruningPlugin as pruning };
