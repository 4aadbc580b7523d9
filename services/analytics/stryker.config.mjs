// `npm run mutation`: StrykerJS against this workspace's unit tests (base in the root stryker.shared.ts).
// The domain rules: sync schedule, metric selection and mapping, failure outcomes and backoff, pacing.
import { mutationConfig } from '../../stryker.shared.ts';

export default mutationConfig(['src/domain/schedule.ts', 'src/domain/insights.ts', 'src/domain/outcome.ts', 'src/domain/pacing.ts']);
