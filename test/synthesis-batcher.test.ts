// Cross-session batching of estimator calls (src/pipeline/synthesis/batcher.ts): packing
// and unpacking, grouping, scheduling, and equality with unbatched inference.
//
// Tolerance of batched against unbatched scores: 1e-5 absolute. The dilated1d estimator
// multiplies every hidden layer by the mask, so padding contributes exact zeros; what
// differs is only how onnxruntime tiles a longer or taller convolution, which reorders
// float32 sums in the last bits. End to end through the sampler and vocoder (whose
// steps compound those bits) the mel and audio are held to 1e-4.
import type { Transferable as WorkerTransferable } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { batcherDefaults, EstimatorBatcher, groupByLength, packBatches, splitScores } from '../src/pipeline/synthesis/batcher.js';
import { Engine, type Scheduling } from '../src/pipeline/synthesis/engine.js';
import type { SynthesisRequest } from '../src/pipeline/synthesis/request.js';
import type { EstimatorBatch } from '../src/pipeline/synthesis/sampler.js';
import { createInferenceWorker, WorkerPool } from '../src/pipeline/synthesis/worker-pool.js';
import type { InferenceRequest } from '../src/pipeline/synthesis/worker-protocol.js';
import { cpuWorkerInit, TINY_VOICE, maxAbsDiff, tinyVoicePool } from './runtime-fixtures.js';

const SCORE_TOLERANCE = 1e-5;
const SYNTHESIS_TOLERANCE = 1e-4;

/** A batch whose every value names where it came from: channel c, frame f → base + 100c + f. */
function batch(frames: number, rows: number, base: number, channels = 2, dim = 3, real = frames): EstimatorBatch {
  const grid = Float32Array.from({ length: channels * frames }, (_, i) => base + 100 * Math.floor(i / frames) + (i % frames));
  return {
    channels,
    frames,
    x: grid,
    mu: grid.map((v) => -v),
    mask: Float32Array.from({ length: frames }, (_, f) => (f < real ? 1 : 0)),
    t: base / 1000,
    rows,
    emotions: Float32Array.from({ length: rows * dim }, (_, i) => base + i),
  };
}

describe('packBatches and splitScores', () => {
  const a = batch(3, 2, 1000, 2, 3, 2);
  const b = batch(5, 1, 2000);
  const packed = packBatches([a, b]);

  it('stacks every row, padded to the longest batch with zeros and mask 0', () => {
    expect({ rows: packed.rows, channels: packed.channels, frames: packed.frames, dim: packed.dim }).toEqual({ rows: 3, channels: 2, frames: 5, dim: 3 });
    const rowA = [1000, 1001, 1002, 0, 0, 1100, 1101, 1102, 0, 0];
    const rowB = [2000, 2001, 2002, 2003, 2004, 2100, 2101, 2102, 2103, 2104];
    expect(Array.from(packed.x)).toEqual([...rowA, ...rowA, ...rowB]);
    expect(Array.from(packed.mu)).toEqual([...rowA, ...rowA, ...rowB].map((v) => (v === 0 ? 0 : -v)));
    // Batch a's own mask (its third frame already masked) is kept; padding adds zeros.
    expect(Array.from(packed.mask)).toEqual([1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(Array.from(packed.t)).toEqual([1, 1, 2].map(Math.fround));
    expect(Array.from(packed.emotion)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 2000, 2001, 2002]);
  });

  it('overwrites reused buffers, padding included', () => {
    const dirty = new Map<string, Float32Array>();
    const alloc = (name: string, n: number) => {
      const buffer = dirty.get(name) ?? new Float32Array(64).fill(Number.NaN);
      dirty.set(name, buffer);
      return buffer.subarray(0, n);
    };
    const again = packBatches([a, b], alloc);
    expect(Array.from(again.x)).toEqual(Array.from(packed.x));
    expect(Array.from(again.mask)).toEqual(Array.from(packed.mask));
  });

  it('returns each batch its own frames only: padding never reaches a result', () => {
    // Padded positions of the score hold NaN; a result that picked one up would show it.
    const score = new Float32Array(packed.rows * packed.channels * packed.frames).fill(Number.NaN);
    const real = [3, 3, 5];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 2; c++) for (let f = 0; f < real[r]!; f++) score[(r * 2 + c) * 5 + f] = r * 1000 + c * 100 + f;
    const [sa, sb] = splitScores(score, [a, b], packed.frames);
    expect(Array.from(sa!)).toEqual([0, 1, 2, 100, 101, 102, 1000, 1001, 1002, 1100, 1101, 1102]);
    expect(Array.from(sb!)).toEqual([2000, 2001, 2002, 2003, 2004, 2100, 2101, 2102, 2103, 2104]);
  });

  it('refuses batches that cannot share a call', () => {
    expect(() => packBatches([])).toThrow(RangeError);
    expect(() => packBatches([batch(3, 1, 0, 2), batch(3, 1, 0, 3)])).toThrow(/channels/);
  });
});

describe('groupByLength', () => {
  const item = (frames: number, rows: number, deadline: number) => ({ batch: batch(frames, rows, 0), deadline });

  it('groups lengths within the pad ratio and rows within the cap, earliest deadline first', () => {
    const items = [item(300, 2, 0), item(100, 1, 1), item(120, 1, 2), item(390, 2, 3), item(410, 1, 4), item(130, 1, 5)];
    const groups = groupByLength(items, 16, 4 / 3);
    expect(groups.map((g) => g.map((i) => i.batch.frames))).toEqual([[300, 390], [100, 120, 130], [410]]);
    const capped = groupByLength(items, 2, 10);
    expect(capped.map((g) => g.map((i) => i.batch.frames))).toEqual([[300], [100, 120], [390], [410], [130]]);
  });

  it('groups equal lengths only when padding is not exact for the preset', () => {
    expect(batcherDefaults('unet2d').maxPadRatio).toBe(1);
    expect(batcherDefaults('dilated1d').maxPadRatio).toBeGreaterThan(1);
    const groups = groupByLength([item(100, 1, 0), item(101, 1, 1), item(100, 1, 2)], 16, 1);
    expect(groups.map((g) => g.map((i) => i.batch.frames))).toEqual([[100, 100], [101]]);
  });
});

describe('EstimatorBatcher', () => {
  interface Call {
    batches: EstimatorBatch[];
    at: number;
    finish(): void;
    fail(error: Error): void;
  }

  /** A batcher over a fake estimator that answers each batch with its `t`, when the test says so. */
  function harness(options: { concurrency?: number; maxWaitMs?: number; maxRows?: number; maxPadRatio?: number } = {}) {
    const calls: Call[] = [];
    const batcher = new EstimatorBatcher({
      concurrency: options.concurrency ?? 1,
      maxWaitMs: options.maxWaitMs ?? 2,
      maxRows: options.maxRows ?? 16,
      maxPadRatio: options.maxPadRatio ?? 4 / 3,
      run: (batches) =>
        new Promise((resolve, reject) => {
          calls.push({
            batches,
            at: performance.now(),
            finish: () => resolve(batches.map((b) => new Float32Array(b.rows * b.channels * b.frames).fill(b.t))),
            fail: reject,
          });
        }),
    });
    return { batcher, calls };
  }

  /** A sampler that takes `steps` steps of the given batch, answering `gate` before each. */
  function sampler(batcher: EstimatorBatcher, b: EstimatorBatch, steps: number, results: number[], gate: () => Promise<void> = async () => {}) {
    return batcher.session(async (estimate) => {
      for (let i = 0; i < steps; i++) {
        await gate();
        results.push((await estimate(b))[0]!);
      }
    });
  }

  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('sends a lone session’s step at once', async () => {
    const { batcher, calls } = harness();
    const results: number[] = [];
    const done = sampler(batcher, batch(10, 1, 7), 1, results);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await done;
    expect(results).toEqual([Math.fround(0.007)]);
  });

  it('merges the steps of sessions that arrive together into one call, each getting its own scores', async () => {
    const { batcher, calls } = harness();
    const results: number[][] = [[], [], []];
    const done = Promise.all([batch(100, 2, 1), batch(110, 1, 2), batch(120, 3, 3)].map((b, k) => sampler(batcher, b, 1, results[k]!)));
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.batches.map((b) => b.frames)).toEqual([100, 110, 120]);
    calls[0]!.finish();
    await done;
    expect(results).toEqual([[0.001], [0.002], [0.003]].map((r) => r.map(Math.fround)));
  });

  it('waits at most maxWaitMs for a session that is running but has not sent its step', async () => {
    const { batcher, calls } = harness({ maxWaitMs: 15 });
    let open!: () => void;
    const late = new Promise<void>((resolve) => (open = resolve));
    const results: number[] = [];
    const slow = sampler(batcher, batch(10, 1, 2), 1, results, () => late);
    const started = performance.now();
    const quick = sampler(batcher, batch(10, 1, 1), 1, results);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.batches).toHaveLength(1);
    // It held the step back instead of sending it at once; Node's timers may fire a little
    // early against performance.now(), so the bound keeps a few milliseconds of slack.
    expect(calls[0]!.at - started).toBeGreaterThanOrEqual(10);
    calls[0]!.finish();
    await quick;
    open();
    await tick();
    calls[1]!.finish();
    await slow;
    expect(calls.map((c) => c.batches.length)).toEqual([1, 1]);
  });

  it('collects steps that arrive while every worker is busy into the next call', async () => {
    const { batcher, calls } = harness({ concurrency: 1 });
    const results: number[][] = [[], [], []];
    const first = sampler(batcher, batch(50, 1, 1), 1, results[0]!);
    await tick();
    const others = Promise.all([sampler(batcher, batch(50, 1, 2), 1, results[1]!), sampler(batcher, batch(60, 1, 3), 1, results[2]!)]);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.batches.map((b) => b.t)).toEqual([0.002, 0.003]);
    calls[1]!.finish();
    await others;
  });

  it('keeps lengths beyond the pad ratio apart and spreads rows over free workers', async () => {
    const { batcher, calls } = harness({ concurrency: 2 });
    const done = Promise.all([batch(100, 1, 1), batch(300, 1, 2)].map((b) => sampler(batcher, b, 1, [])));
    await tick();
    expect(calls.map((c) => c.batches.map((b) => b.frames))).toEqual([[100], [300]]);
    calls.forEach((c) => c.finish());
    await done;

    const spread = Promise.all([1, 2, 3, 4].map((k) => sampler(batcher, batch(100, 1, k), 1, [])));
    await tick();
    expect(calls.slice(2).map((c) => c.batches.length)).toEqual([2, 2]);
    calls.slice(2).forEach((c) => c.finish());
    await spread;
  });

  it('rejects every step of a failed call and goes on serving', async () => {
    const { batcher, calls } = harness({ concurrency: 1 });
    const failing = Promise.allSettled([1, 2].map((k) => sampler(batcher, batch(10, 1, k), 1, [])));
    await tick();
    calls[0]!.fail(new Error('boom'));
    expect((await failing).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const results: number[] = [];
    const next = sampler(batcher, batch(10, 1, 5), 1, results);
    await tick();
    calls[1]!.finish();
    await next;
    expect(results).toEqual([Math.fround(0.005)]);
  });
});

describe('batched inference equals unbatched', () => {
  const tiny = tinyVoicePool();

  /** A mel-like batch: x and μ from a seeded sine mixture, the last `masked` frames masked. */
  function realistic(frames: number, rows: number, seed: number, masked = 0): EstimatorBatch {
    const channels = tiny.voice.manifest.mel.nMels;
    const dim = tiny.voice.manifest.embeddingDim;
    const mask = Float32Array.from({ length: frames }, (_, f) => (f < frames - masked ? 1 : 0));
    const wave = (k: number) => Float32Array.from({ length: channels * frames }, (_, i) => Math.sin(seed * 0.37 + i * 0.013 * k) * 2 - 4 * mask[i % frames]!);
    return {
      channels,
      frames,
      x: wave(1).map((v, i) => v * mask[i % frames]!),
      mu: wave(3).map((v, i) => v * mask[i % frames]!),
      mask,
      t: 0.1 + seed / 10,
      rows,
      emotions: Float32Array.from({ length: rows * dim }, (_, i) => Math.cos(seed + i)),
    };
  }

  const copy = (b: EstimatorBatch): EstimatorBatch => ({ ...b, x: b.x.slice(), mu: b.mu.slice(), mask: b.mask.slice(), emotions: b.emotions.slice() });

  it('one call over batches of different lengths gives each the scores it gets alone', async () => {
    const batches = [realistic(37, 2, 1), realistic(48, 1, 2, 5), realistic(45, 3, 3)];
    const alone: Float32Array[] = [];
    for (const b of batches) alone.push(await tiny.pool.estimate(copy(b)));
    const together = await tiny.pool.estimateBatches(batches.map(copy));
    together.forEach((scores, k) => {
      expect(scores.length).toBe(batches[k]!.rows * batches[k]!.channels * batches[k]!.frames);
      expect(maxAbsDiff(scores, alone[k]!)).toBeLessThan(SCORE_TOLERANCE);
    });
  });

  it('padding never leaks: a batch padded to twice its length alongside another scores as alone', async () => {
    const short = realistic(20, 1, 4);
    const long = realistic(40, 1, 5);
    const alone = await tiny.pool.estimate(copy(short));
    const [padded] = await tiny.pool.estimateBatches([copy(short), copy(long)]);
    expect(maxAbsDiff(padded!, alone)).toBeLessThan(SCORE_TOLERANCE);
  });

  it('a free worker takes the waiting call with the earliest deadline', async () => {
    const order: string[] = [];
    const edf = await WorkerPool.start({
      size: 1,
      init: cpuWorkerInit(tiny.voice),
    });
    try {
      const mel = () => new Float32Array(80 * 40).fill(-5);
      const busy = edf.vocode(mel(), 80, 40);
      const late = edf.vocode(mel(), 80, 40, { deadline: performance.now() + 5000 }).then(() => order.push('late'));
      const early = edf.vocode(mel(), 80, 40, { deadline: performance.now() - 1000 }).then(() => order.push('early'));
      const unset = edf.vocode(mel(), 80, 40).then(() => order.push('now'));
      await Promise.all([busy, late, early, unset]);
      expect(order).toEqual(['early', 'now', 'late']);
    } finally {
      await edf.close();
    }
  });

  it('under load, the calls of a synthesis wanted later wait for those wanted sooner; served as they come, they take turns', async () => {
    /** Frames of each estimator call, in the order the one worker got them: a long phrase wanted in 5 s, two short ones wanted now. */
    const estimatorOrder = async (scheduling: Scheduling): Promise<number[]> => {
      const posted: number[] = [];
      const engine = await Engine.create({
        voiceDir: TINY_VOICE,
        workers: 1,
        intraOpThreads: 1,
        cacheEntries: 0,
        scheduling,
        createWorker: (init) => {
          const worker = createInferenceWorker(init);
          const post = worker.postMessage.bind(worker);
          worker.postMessage = (message: { request?: InferenceRequest }, transfer?: readonly WorkerTransferable[]) => {
            if (message.request?.op === 'estimate') posted.push(message.request.batches[0]!.frames);
            post(message, transfer);
          };
          return worker;
        },
      });
      try {
        const request = (seed: number): SynthesisRequest => ({ weights: { neutral: 1 }, steps: 4, seed });
        await Promise.all([
          engine.synthesize('The quick brown fox jumps over the lazy dog, and then it runs back into the forest.', { ...request(1), deadline: performance.now() + 5000 }),
          engine.synthesize('Hello there.', { ...request(2), deadline: performance.now() }),
          engine.synthesize('Hello there.', { ...request(3), deadline: performance.now() }),
        ]);
        return posted;
      } finally {
        await engine.close();
      }
    };
    const longFrames = (order: number[]) => Math.max(...order);
    const byDeadline = await estimatorOrder('deadline');
    expect(byDeadline).toHaveLength(12);
    // Each short phrase's next call was always waiting when the worker came free: the long one waited throughout.
    expect(byDeadline.slice(8).every((frames) => frames === longFrames(byDeadline))).toBe(true);
    // As they come, its calls, queued first, take turns with theirs.
    const byArrival = await estimatorOrder('arrival');
    expect(byArrival.slice(0, 8).some((frames) => frames === longFrames(byArrival))).toBe(true);
  });

  it('concurrent syntheses give the same audio with batching as without', async () => {
    // Lengths within the pad ratio of each other, so that their steps share calls.
    const texts = ['The quick brown fox jumps over the lazy dog.', 'A lazy dog sleeps under the old brown tree.', 'Is it raining again today, or is it not?'];
    const request = (k: number): SynthesisRequest => ({ weights: k === 1 ? { happy: 0.6, sad: 0.4 } : { neutral: 1 }, steps: 4, seed: 11 + k });
    const synthesizeAll = async (batching: false | { maxWaitMs: number }, callSizes: number[]) => {
      const engine = await Engine.create({
        voiceDir: TINY_VOICE,
        workers: 1,
        intraOpThreads: 1,
        batching,
        cacheEntries: 0,
        // Counts the batches of every estimator request the pool sends.
        createWorker: (init) => {
          const worker = createInferenceWorker(init);
          const post = worker.postMessage.bind(worker);
          worker.postMessage = (message: { request?: InferenceRequest }, transfer?: readonly WorkerTransferable[]) => {
            if (message.request?.op === 'estimate') callSizes.push(message.request.batches.length);
            post(message, transfer);
          };
          return worker;
        },
      });
      try {
        return await Promise.all(texts.map((text, k) => engine.synthesize(text, request(k))));
      } finally {
        await engine.close();
      }
    };
    const unbatchedCalls: number[] = [];
    const batchedCalls: number[] = [];
    const unbatched = await synthesizeAll(false, unbatchedCalls);
    const batched = await synthesizeAll({ maxWaitMs: 5 }, batchedCalls);
    expect(unbatchedCalls.every((n) => n === 1)).toBe(true);
    expect(Math.max(...batchedCalls)).toBeGreaterThan(1);
    batched.forEach((result, k) => {
      expect(result.mel.length).toBe(unbatched[k]!.mel.length);
      expect(maxAbsDiff(result.mel, unbatched[k]!.mel)).toBeLessThan(SYNTHESIS_TOLERANCE);
      expect(maxAbsDiff(result.audio, unbatched[k]!.audio)).toBeLessThan(SYNTHESIS_TOLERANCE);
    });
  });
});
