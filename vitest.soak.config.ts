import { defineConfig } from 'vitest/config';

// `npm run soak`: the long load run (test/soak), not part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: (Number(process.env['SOAK_SECONDS'] ?? 60) + 180) * 1000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
