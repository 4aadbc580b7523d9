// The one vitest layout every workspace uses: three projects, picked by file name.
//   *.unit.test.ts  pure logic, no services
//   *.int.test.ts   real Postgres and Kafka (started by the global setup)
//   *.e2e.test.ts   whole flows across services
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/node';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const globalSetup = fileURLToPath(new URL('./packages/testing/src/global-setup.ts', import.meta.url));
const reportsDir = fileURLToPath(new URL('./.tmp/test-results/', import.meta.url));

/** `name` labels this workspace's JSON report, which scripts/test-all.ts sums into one closing line. */
export function workspaceTestConfig(name = basename(process.cwd())) {
  return defineConfig({
    test: {
      reporters: ['default', 'json'],
      outputFile: { json: `${reportsDir}${name}-${process.pid}.json` },
      projects: [
        { test: { name: 'unit', include: ['{src,test}/**/*.unit.test.ts'] } },
        {
          test: {
            name: 'int',
            include: ['{src,test}/**/*.int.test.ts'],
            globalSetup: [globalSetup],
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
        {
          test: {
            name: 'e2e',
            include: ['{src,test}/**/*.e2e.test.ts'],
            globalSetup: [globalSetup],
            testTimeout: 120_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  });
}

/**
 * The unit project alone, for mutation testing: Stryker runs it once per mutant inside a sandbox copy
 * of the workspace (the working directory), so it must need no services and leave no JSON report.
 */
export function unitTestConfig(reporters: readonly Reporter[] = []) {
  // Instrumented code under a busy machine runs several times slower than a plain unit run.
  return defineConfig({ test: { include: ['{src,test}/**/*.unit.test.ts'], reporters: ['default', ...reporters], testTimeout: 30_000 } });
}
