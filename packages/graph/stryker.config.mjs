// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
// The mutants of classify.ts left alive are written down, with why, in this package's README
// ("Mutation testing").
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/classify.ts']);
