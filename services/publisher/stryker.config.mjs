// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
// Mutated: the publisher's pure rules in src/domain (the publishing engine's retry policy, lateness and
// outcome classification, and the post state machine and caption rules they build on).
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/domain/**/*.ts', '!src/domain/**/*.test.ts']);
//
// Equivalent mutants (they survive and change nothing observable):
// - caption.ts, countHashtags / countMentions: dropping the `+` after the character class. Each match still
//   starts at one `#`/`@` and the next match needs its own preceding separator, so the count is the same.
