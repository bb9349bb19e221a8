import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Hang guards, not time budgets: no test measures time, and a busy machine runs the slowest tests several times
    // slower than an idle one (the CLI test that plays the whole demo in a child process took over 120 s under
    // npm run test:contended on a shared 2-core machine).
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
