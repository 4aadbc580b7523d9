// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
//
// Equivalent mutants (uncovered, change nothing observable), envelope.ts:
// - readEnvelope's `type ?? ''` -> `type ?? "Stryker was here!"`: a record without ce_type is refused
//   as missing-header before this line, so the fallback is never taken.
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/envelope.ts']);
