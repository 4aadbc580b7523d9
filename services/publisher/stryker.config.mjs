// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
// Mutated: the publisher's rules in src/domain (validation, the post state machine, caption, the engine's retry
// policy, lateness and outcome classification, Facebook publishing rules). Left out: media-probe.ts, which is
// mostly HTTP and DNS (SSRF guards, redirects, timeouts) proven by test/media-probe.int.test.ts against real
// servers; under unit tests alone most of its mutants have no coverage (29 % with it included, 85.6 % overall).
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/domain/**/*.ts', '!src/domain/**/*.test.ts', '!src/domain/media-probe.ts']);
//
// Equivalent mutants (they survive and change nothing observable):
// - caption.ts, countHashtags / countMentions: dropping the `+` after the character class. Each match still
//   starts at one `#`/`@` and the next match needs its own preceding separator, so the count is the same.
