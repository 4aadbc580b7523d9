// Stryker's view of this package: the unit tests only (no database, broker or sandbox), one project.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['test/**/*.unit.test.ts'] } });
