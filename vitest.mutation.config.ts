// The vitest configuration Stryker runs: the unit project of whichever workspace it is started in.
import { LoadFailureReporter } from './packages/testing/src/load-failure-reporter.ts';
import { unitTestConfig } from './vitest.shared.ts';

export default unitTestConfig([new LoadFailureReporter()]);
