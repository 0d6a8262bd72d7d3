// The browser end-to-end tests (e2e/*.test.ts): Node, one file at a time,
// with timeouts sized for deploys on a loaded machine. `npm run test:e2e`.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ['verbose'],
  },
})
