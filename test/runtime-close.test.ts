// Closing an engine while a synthesis is in flight: each worker finishes its native
// call before it is terminated. Terminating it mid-call aborted the whole process
// (`terminate called after throwing an instance of 'Napi::Error'`, SIGABRT) in 3 of 5
// runs (delays 100-1300 ms, measured before the fix), so the test runs in child processes.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const SCRIPT = 'test/fixtures/scripts/close-during-synthesis.mts';

describe('Engine.close during a synthesis', () => {
  it('lets the call in flight return, then exits 0', () => {
    // Delays land in different graphs (encoder, estimator steps, vocoder) of the shipped voice.
    for (const delayMs of [100, 300, 1300]) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, 'models/slt-emo', String(delayMs)], { encoding: 'utf8', timeout: 60_000 });
      expect({ delayMs, signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({ delayMs, signal: null, status: 0, stderr: '' });
      // The synthesis either finished before the close or was refused its next call.
      expect(child.stdout.trim()).toMatch(/^(resolved|rejected ENGINE_CLOSED)$/);
    }
  }, 180_000);
});
