// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
//
// Equivalent mutants (they survive and change nothing observable):
// - connect-session.ts, createNonceLedger: `if (seen.size >= capacity)` -> `if (true)`. Sweeping
//   expired nonces on every call instead of only when full changes nothing a caller sees: an
//   expired nonce is refused before the ledger is looked at, and the oldest-first loop stops at
//   once while the ledger is below capacity. Only the cost of a call differs.
// - connect-session.ts, openConnectAttempt: `if (!sealed) return undefined` -> `if (false)`. A missing
//   or empty cookie then reaches the cipher, which refuses it as malformed, and that too answers
//   undefined. The guard only saves the attempt. The same holds for openConnectResult's `if (!sealed)`.
// - post-requests.ts, prefersRespondAsync: `header ?? []` -> `header ?? ["Stryker was here"]`. An absent
//   header read as one preference that is not respond-async answers false all the same.
// - live-events.ts, publicPayload: `typeof item === 'string' && CIPHERTEXT.test(item)` -> `true && ...`.
//   A non-string array item tested against the pattern is converted to text first; only a string can
//   read as a ciphertext, so the outcome is the same.
// - sealed-json.ts, openSealedJson: the JSON.parse catch block `{ return undefined; }` -> `{}`. Text that is not
//   JSON then leaves the value undefined, which the object schemas every caller passes refuse: undefined all the same.
// - live-events.ts, bearerExpiry: `typeof exp === 'number' && ...` -> `true && ...`. Number.isFinite is false for
//   anything but a finite number, so the typeof check decides nothing (it only narrows the type for the compiler).
// - live-events.ts, bearerExpiry: the catch block `{ return undefined; }` -> `{}`. exp is then left undefined, which is
//   not finite: undefined all the same.
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig([
  'src/domain/connect-return.ts',
  'src/domain/connect-session.ts',
  'src/domain/sealed-json.ts',
  'src/domain/post-requests.ts',
  'src/domain/scopes.ts',
  'src/domain/live-events.ts',
  'src/domain/outbound-address.ts',
  'src/domain/webhook-retry.ts',
  'src/domain/webhook-signature.ts',
  'src/domain/entity-tags.ts',
  'src/domain/rate-limits.ts',
  'src/domain/stream-ticket.ts',
  'src/domain/connect-ticket.ts',
]);
