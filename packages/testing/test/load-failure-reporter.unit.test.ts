import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVitest } from 'vitest/node';
import { LoadFailureReporter } from '../src/load-failure-reporter.ts';

const fixtures = fileURLToPath(new URL('./fixtures/load-failure/', import.meta.url));

/** Runs the fixture files with the reporter, as a mutation run would, and lists each file's tests. */
async function runFixtures() {
  const vitest = await createVitest('test', {
    root: fixtures,
    include: ['*.check.ts'],
    reporters: [new LoadFailureReporter()],
    watch: false,
    config: false,
  });
  try {
    await vitest.start();
    return vitest.state.getFiles().map((file) => ({
      file: file.name,
      tests: file.tasks.map((task) => ({ name: task.name, state: task.result?.state, error: task.result?.errors?.[0]?.message })),
    }));
  } finally {
    await vitest.close();
  }
}

describe('load failure reporter (mutation runs)', () => {
  it('gives a test file that fails to load one failed test carrying the load error, and leaves a file that loaded alone', async () => {
    const files = await runFixtures();
    expect(files.find((entry) => entry.file === 'unloadable.check.ts')?.tests).toEqual([
      { name: 'the test file loads', state: 'fail', error: expect.stringMatching(/JSON/) },
    ]);
    expect(files.find((entry) => entry.file === 'loads.check.ts')?.tests).toEqual([{ name: 'passes', state: 'pass', error: undefined }]);
  }, 60_000);
});
