import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'clients/livekit/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Inference tests load ONNX sessions in worker threads; running many files at
    // once on a 2-core machine only makes every one of them slower.
    fileParallelism: false,
  },
});
