import { experimental_getRunnerTask } from 'vitest/node';
import type { Reporter, RunnerTestCase, RunnerTestFile, TestModule } from 'vitest/node';

/**
 * For mutation runs only. Stryker's vitest runner (9.6) builds a mutant's verdict from the tests vitest
 * collected, so a mutant that makes a test file fail to load (a throw at import or in a `describe`
 * body) leaves no failed test and is scored Survived although the suite catches it
 * (stryker-mutator/stryker-js#6150). This reporter gives each such file one failed test carrying the
 * load error, which Stryker then counts as a kill. Files that loaded are left as they are.
 */
export class LoadFailureReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    for (const module of testModules) addLoadFailure(experimental_getRunnerTask(module));
  }
}

export function addLoadFailure(file: RunnerTestFile): void {
  if (file.result?.state !== 'fail' || hasTest(file)) return;
  const name = 'the test file loads';
  const failed = {
    type: 'test',
    id: `${file.id}_load`,
    name,
    fullName: `${file.name} > ${name}`,
    fullTestName: name,
    mode: 'run',
    file,
    suite: file,
    meta: {},
    timeout: 0,
    annotations: [],
    artifacts: [],
    result: { state: 'fail', errors: file.result.errors ?? [] },
  } satisfies Omit<RunnerTestCase, 'context'>;
  // A test's `context` is built by vitest while it runs; nothing reads it once the run is over.
  file.tasks.push({ ...failed, context: {} as RunnerTestCase['context'] });
}

function hasTest(suite: { readonly tasks: readonly RunnerTestFile['tasks'][number][] }): boolean {
  return suite.tasks.some((task) => task.type === 'test' || (task.type === 'suite' && hasTest(task)));
}
