import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Hang guards, not time budgets: no test measures time, and a busy CI machine runs the slowest tests (a CLI
    // process playing the whole demo, 3,000 fuzzed HTTP requests) several times slower than an idle one.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
