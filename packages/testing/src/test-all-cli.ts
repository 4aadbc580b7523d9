// The whole gate, as CI runs it: type-check and lint, then unit, integration and end-to-end tests
// in every workspace. Every step runs even when an earlier one fails, so one run shows everything;
// the last line is the plain summary `Tests: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const reportsDir = join(import.meta.dirname, '..', '..', '..', '.tmp', 'test-results');
rmSync(reportsDir, { recursive: true, force: true });

const steps: [string, string[]][] = [
  ['type-check and lint', ['turbo', 'run', 'typecheck', 'lint', '--output-logs=errors-only']],
  ['unit tests', ['turbo', 'run', 'test:unit', '--force', '--output-logs=new-only']],
  ['integration tests', ['turbo', 'run', 'test:int', '--force', '--concurrency=1', '--output-logs=new-only']],
  ['end-to-end tests', ['turbo', 'run', 'test:e2e', '--force', '--concurrency=1', '--output-logs=new-only']],
];

const outcomes: { step: string; ok: boolean; seconds: number }[] = [];
for (const [step, command] of steps) {
  const started = performance.now();
  console.log(`\n=== ${step}: npx ${command.join(' ')}`);
  const result = spawnSync('npx', command, { stdio: 'inherit' });
  outcomes.push({ step, ok: result.status === 0, seconds: (performance.now() - started) / 1000 });
}

type VitestReport = { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
const totals = { passed: 0, failed: 0, skipped: 0 };
if (existsSync(reportsDir)) {
  for (const file of readdirSync(reportsDir).filter((name) => name.endsWith('.json'))) {
    const report = JSON.parse(readFileSync(join(reportsDir, file), 'utf8')) as VitestReport;
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + report.numTodoTests;
  }
}

console.log('\n=== summary');
for (const outcome of outcomes) {
  console.log(`${outcome.ok ? 'ok    ' : 'FAILED'} ${outcome.step} (${outcome.seconds.toFixed(1)}s)`);
}
const ok = outcomes.every((outcome) => outcome.ok) && totals.failed === 0 && totals.passed > 0;
console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = ok ? 0 : 1;
