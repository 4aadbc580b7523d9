// The one StrykerJS setup every workspace's `npm run mutation` uses; a workspace names only the files
// it mutates. Stryker is a project command, not part of CI: each mutant re-runs the unit tests.
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';
import { fileURLToPath } from 'node:url';

const vitestConfig = fileURLToPath(new URL('./vitest.mutation.config.ts', import.meta.url));

export function mutationConfig(mutate: readonly string[]): PartialStrykerOptions {
  return {
    mutate: [...mutate],
    testRunner: 'vitest',
    // Every unit test runs against every mutant it covers, not only the files vitest links by import.
    vitest: { configFile: vitestConfig, related: false },
    coverageAnalysis: 'perTest',
    // Two cores: one worker leaves the other for the rest of the machine.
    concurrency: 1,
    // A static mutant re-runs the whole unit suite in a fresh environment; on a busy machine that
    // overruns Stryker's default allowance (1.5 x the net test time + 5 s) and would be scored a
    // Timeout (detected) without any test having failed.
    timeoutMS: 30_000,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: 'reports/mutation/index.html' },
    jsonReporter: { fileName: 'reports/mutation/mutation.json' },
    thresholds: { high: 85, low: 70, break: null },
    cleanTempDir: 'always',
  };
}
