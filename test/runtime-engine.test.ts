// The engine end to end on the tiny voice: requests, ramps, cancellation, worker
// failures, reference embeddings and event-loop responsiveness.
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phonemize } from '../src/pipeline/frontend/index.js';
import { Engine, SYNTHESIS_LIMITS } from '../src/pipeline/synthesis/engine.js';
import { createInferenceWorker, WorkerPool } from '../src/pipeline/synthesis/worker-pool.js';
import { loadVoice } from '../src/pipeline/voice/load.js';
import { createPolyphaseResampler } from '../src/stream/polyphase.js';
import { TINY_VOICE, maxAbsDiff } from './runtime-fixtures.js';

/** A WAV file of the given channels in one of the formats embedReference accepts. */
function wavBytes(channels: Float32Array[], sampleRate: number, format: 'pcm16' | 'pcm24' | 'float32'): Uint8Array {
  const bytesPerSample = format === 'pcm16' ? 2 : format === 'pcm24' ? 3 : 4;
  const frames = channels[0]!.length;
  const dataBytes = frames * channels.length * bytesPerSample;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(format === 'float32' ? 3 : 1, 20);
  out.writeUInt16LE(channels.length, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels.length * bytesPerSample, 28);
  out.writeUInt16LE(channels.length * bytesPerSample, 32);
  out.writeUInt16LE(bytesPerSample * 8, 34);
  out.write('data', 36);
  out.writeUInt32LE(dataBytes, 40);
  let offset = 44;
  for (let i = 0; i < frames; i++) {
    for (const channel of channels) {
      const v = channel[i]!;
      if (format === 'pcm16') out.writeInt16LE(Math.round(v * 32767), offset);
      else if (format === 'pcm24') out.writeIntLE(Math.round(v * 8388607), offset, 3);
      else out.writeFloatLE(v, offset);
      offset += bytesPerSample;
    }
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function tone(seconds: number, rate: number): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => {
    const t = i / rate;
    return 0.4 * Math.sin(2 * Math.PI * 220 * t) * (1 + 0.5 * Math.sin(2 * Math.PI * 3 * t)) + 0.1 * Math.sin(2 * Math.PI * 1800 * t);
  });
}

const TEXT = 'Well, hello there! It is a fine day for a walk.';

describe('Engine on the tiny voice', () => {
  let engine: Engine;

  beforeAll(async () => {
    engine = await Engine.create({ voiceDir: TINY_VOICE, workers: 2 });
  });
  afterAll(() => engine?.close());

  it('synthesizes text: audio length, word times and durations agree', async () => {
    const result = await engine.synthesize(TEXT, { weights: { happy: 1 }, seed: 3, steps: 3 });
    const hop = engine.voice.mel.hopLength;
    const frames = result.durations.reduce((a, b) => a + b, 0);
    expect(result.sampleRate).toBe(engine.voice.audio.sampleRate);
    expect(result.audio.length).toBe(frames * hop);
    expect(result.mel.length).toBe(engine.voice.mel.nMels * frames);
    expect(result.durationMs).toBeCloseTo((frames * hop * 1000) / result.sampleRate, 9);
    expect(result.words.map((w) => w.word)).toEqual(phonemize(TEXT).words.map((w) => w.word));
    for (const [i, w] of result.words.entries()) {
      expect(w.endMs).toBeGreaterThan(w.startMs);
      if (i > 0) expect(w.startMs).toBeGreaterThanOrEqual(result.words[i - 1]!.endMs);
    }
    expect(result.words.at(-1)!.endMs).toBeLessThanOrEqual(result.durationMs);
    expect(result.timings.estimatorMs).toHaveLength(3);
    expect(result.audio.every(Number.isFinite)).toBe(true);
  });

  it('converts its audio to the sampleRate asked for, as the polyphase resampler does on the calling thread', async () => {
    const request = { weights: { happy: 1 }, seed: 5, steps: 2 };
    const native = await engine.synthesize(TEXT, request);
    const converted = await engine.synthesize(TEXT, { ...request, sampleRate: 48_000 });
    expect(converted.sampleRate).toBe(48_000);
    expect(Array.from(converted.audio)).toEqual(Array.from(await createPolyphaseResampler(native.sampleRate, 48_000).process(native.audio)));
    expect(converted.durationMs).toBeCloseTo(native.durationMs, 1);
    expect(converted.timings.resampleMs).toBeGreaterThan(0);
    await expect(engine.synthesize(TEXT, { ...request, sampleRate: 0 })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('is deterministic for a seed, also when requests run concurrently', async () => {
    const request = { weights: { happy: 2, sad: 1 }, seed: 11, steps: 3 };
    const alone = await engine.synthesize(TEXT, request);
    const [a, b] = await Promise.all([engine.synthesize(TEXT, request), engine.synthesize(TEXT, { ...request, seed: 12 })]);
    expect(maxAbsDiff(a.audio, alone.audio)).toBe(0);
    expect(maxAbsDiff(b.audio, alone.audio)).toBeGreaterThan(0);
  });

  it('draws a seed when none is given and reports it', async () => {
    const first = await engine.synthesize('Hi.', { weights: { neutral: 1 }, steps: 1 });
    const again = await engine.synthesize('Hi.', { weights: { neutral: 1 }, steps: 1, seed: first.seed });
    expect(Number.isSafeInteger(first.seed)).toBe(true);
    expect(maxAbsDiff(first.audio, again.audio)).toBe(0);
  });

  it('intensity 0 is plain neutral speech', async () => {
    const neutral = await engine.synthesize(TEXT, { weights: { neutral: 1 }, seed: 5, steps: 2 });
    const muted = await engine.synthesize(TEXT, { weights: { angry: 1 }, intensity: 0, seed: 5, steps: 2 });
    expect(maxAbsDiff(muted.audio, neutral.audio)).toBe(0);
  });

  it('conditions the encoder on the mix at each phoneme’s time, along a ramp in steps', async () => {
    const run = (request: Parameters<Engine['synthesize']>[1]) => engine.synthesize(TEXT, { seed: 1, steps: 1, ...request });
    const happy = await run({ weights: { happy: 1 } });
    const sad = await run({ weights: { sad: 1 } });
    expect([...sad.durations]).not.toEqual([...happy.durations]);
    // A ramp that ended before the phrase is all sad.
    expect([...(await run({ weights: { happy: 1 }, ramp: { to: { sad: 1 }, startMs: -2000, endMs: 0 } })).durations]).toEqual([...sad.durations]);
    // One over the whole phrase: the first phoneme happy, the last sad, the sad weight only growing.
    const ramped = await run({ weights: { happy: 1 }, ramp: { to: { sad: 1 }, startMs: 0, endMs: happy.durationMs } });
    const { rows, phonemeRows } = ramped.emotion;
    const sadOf = (p: number) => rows[phonemeRows[p]!]!.get('sad') ?? 0;
    const last = phonemeRows.length - 1;
    expect(Object.fromEntries(rows[phonemeRows[0]!]!)).toEqual({ happy: 1 });
    expect(ramped.durations[0]).toBe(happy.durations[0]);
    expect(Object.fromEntries(rows[phonemeRows[last]!]!)).toEqual({ sad: 1 });
    expect(ramped.durations[last]).toBe(sad.durations[last]);
    for (let p = 1; p <= last; p++) expect(sadOf(p)).toBeGreaterThanOrEqual(sadOf(p - 1));
    expect(rows.length).toBeGreaterThanOrEqual(4); // both ends and at least two steps
  });

  it('runs the embedding mode and the schedule', async () => {
    const fast = await engine.synthesize(TEXT, { weights: { happy: 1, sad: 1 }, mode: 'embedding', seed: 2, steps: 2 });
    const scored = await engine.synthesize(TEXT, { weights: { happy: 1, sad: 1 }, seed: 2, steps: 2 });
    const scheduled = await engine.synthesize(TEXT, {
      weights: { happy: 1, sad: 1 }, seed: 2, steps: 4, solver: 'sde', schedule: { primary: 'happy', secondary: 'sad', tMax: 0.6, tMin: 0.2 },
    });
    expect(maxAbsDiff(fast.audio, scored.audio)).toBeGreaterThan(0);
    expect(scheduled.audio.every(Number.isFinite)).toBe(true);
  });

  it('accepts a custom emotion embedding by name', async () => {
    const custom = engine.voice.emotions.find((e) => e.name === 'sad')!.centroid.slice();
    const viaCustom = await engine.synthesize(TEXT, { weights: { mine: 1 }, customEmotions: { mine: custom }, seed: 4, steps: 2 });
    const viaName = await engine.synthesize(TEXT, { weights: { sad: 1 }, seed: 4, steps: 2 });
    expect(maxAbsDiff(viaCustom.audio, viaName.audio)).toBe(0);
  });

  it('refuses bad requests with typed errors', async () => {
    await expect(engine.synthesize(TEXT, { weights: { joy: 1 } })).rejects.toMatchObject({ name: 'SynthesisError', code: 'EMOTION_UNKNOWN' });
    await expect(engine.synthesize(TEXT, { weights: { happy: -1 } })).rejects.toMatchObject({ code: 'WEIGHT_INVALID' });
    await expect(engine.synthesize(TEXT, { weights: { happy: 1 }, steps: 0 })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    await expect(engine.synthesize(' … ', { weights: { happy: 1 } })).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
    await expect(engine.synthesizeIds([], [], { weights: { happy: 1 } })).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
    await expect(engine.synthesizeIds([1, 9999], [], { weights: { happy: 1 } })).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    // Bounded work whatever the caller sends: too many phonemes, or durations stretched past the audio limit.
    await expect(engine.synthesizeIds(Array(SYNTHESIS_LIMITS.maxPhonemes + 1).fill(1), [], { weights: { happy: 1 } })).rejects.toMatchObject({ code: 'PHRASE_TOO_LONG' });
    await expect(engine.synthesizeIds([1, 2, 3], [], { weights: { happy: 1 }, lengthScale: 1e6 })).rejects.toMatchObject({ code: 'PHRASE_TOO_LONG', message: /at most 120 s/ });
  });

  it('rejects with an AbortError when aborted before it starts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(engine.synthesize(TEXT, { weights: { happy: 1 }, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('stops between estimator steps when aborted mid-run, and keeps serving', async () => {
    const controller = new AbortController();
    const run = engine.synthesize(TEXT, { weights: { happy: 1 }, steps: 1000, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const next = await engine.synthesize('Hi.', { weights: { happy: 1 }, steps: 1, seed: 1 });
    expect(next.audio.length).toBeGreaterThan(0);
  });

  it('embeds a reference WAV in any common format, rate and channel count', async () => {
    const rate = engine.voice.audio.sampleRate;
    const signal = tone(1, rate);
    const base = await engine.embedReference(wavBytes([signal], rate, 'float32'));
    expect(base).toHaveLength(engine.voice.embeddingDim);
    expect(base.every(Number.isFinite)).toBe(true);
    // Quantisation to 24 or 16 bits, and a second identical channel, barely move the embedding.
    expect(maxAbsDiff(await engine.embedReference(wavBytes([signal, signal], rate, 'pcm24')), base)).toBeLessThan(1e-3);
    expect(maxAbsDiff(await engine.embedReference(wavBytes([signal], rate, 'pcm16')), base)).toBeLessThan(1e-2);
    // The same tone recorded at 48 kHz stereo is resampled to the voice rate first.
    const hiRate = tone(1, 48_000);
    const resampled = await engine.embedReference(wavBytes([hiRate, hiRate], 48_000, 'pcm16'));
    expect(maxAbsDiff(resampled, base)).toBeLessThan(0.05);
    // 44101 → the voice rate needs more filter phases than the polyphase converter tabulates:
    // libsamplerate converts it, in production too (a runtime dependency, not only the tests').
    const oddRate = tone(1, 44_101);
    expect(maxAbsDiff(await engine.embedReference(wavBytes([oddRate], 44_101, 'pcm16')), base)).toBeLessThan(0.05);
    // A different sound gives a different embedding.
    const noise = Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin(i * i * 1e-3));
    expect(maxAbsDiff(await engine.embedReference(wavBytes([noise], rate, 'float32')), base)).toBeGreaterThan(1e-3);
  });

  it('refuses a file that is not WAV, and a clip too short to analyse', async () => {
    await expect(engine.embedReference(new TextEncoder().encode('definitely not a wav file'))).rejects.toMatchObject({ code: 'WAV_INVALID' });
    await expect(engine.embedReference(wavBytes([new Float32Array(10)], 16_000, 'pcm16'))).rejects.toMatchObject({ code: 'WAV_INVALID' });
  });

  it('vocodes a mel alone to frames × hop samples, and refuses one of the wrong size', async () => {
    const { nMels, hopLength } = engine.voice.mel;
    const mel = Float32Array.from({ length: nMels * 12 }, (_, i) => -6 + Math.sin(i / 5));
    const audio = await engine.vocode(mel, 12);
    expect(audio.length).toBe(12 * hopLength);
    expect(audio.every(Number.isFinite)).toBe(true);
    expect(mel[0]).toBe(-6); // the caller's array is not handed to the worker
    await expect(engine.vocode(mel, 11)).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });

  // Inference runs in worker threads, so a 1 ms timer keeps firing on time while a long
  // phrase is synthesized; only the sampler's arithmetic shares the main thread.
  it('keeps the event loop responsive while synthesizing', async () => {
    const longText = Array.from({ length: 6 }, () => TEXT).join(' ');
    let last = performance.now();
    let largestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      largestGap = Math.max(largestGap, now - last);
      last = now;
    }, 1);
    try {
      const result = await engine.synthesize(longText, { weights: { neutral: 1, happy: 1, sad: 1, angry: 1, surprise: 1 }, steps: 10, seed: 9 });
      expect(result.timings.estimatorMs).toHaveLength(10);
    } finally {
      clearInterval(timer);
    }
    expect(largestGap).toBeLessThan(50);
  });

  it('rejects calls after close with ENGINE_CLOSED', async () => {
    const closing = await Engine.create({ voiceDir: TINY_VOICE, workers: 1 });
    await closing.close();
    await expect(closing.synthesize(TEXT, { weights: { happy: 1 } })).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
  });
});

describe('Engine options', () => {
  it('runs on the CPU with one warning line when the CUDA provider cannot load', async () => {
    const warnings: string[] = [];
    const engine = await Engine.create({ voiceDir: TINY_VOICE, device: 'cuda', workers: 2, intraOpThreads: 1, graphOptimization: 'basic', logger: { warn: (m) => warnings.push(m) } });
    try {
      // Where onnxruntime's CUDA provider is installed the engine uses it and says nothing.
      if (engine.device === 'cuda') expect(warnings).toEqual([]);
      else expect(warnings).toEqual([expect.stringMatching(/^emomix: the CUDA execution provider could not be loaded, running on the CPU \(.+\)$/)]);
      expect((await engine.synthesize(TEXT, { weights: { happy: 1 }, steps: 1 })).audio.length).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });

  it('refuses invalid pool settings before loading anything', async () => {
    await expect(Engine.create({ voiceDir: TINY_VOICE, workers: 0 })).rejects.toThrow(RangeError);
    await expect(Engine.create({ voiceDir: TINY_VOICE, intraOpThreads: 1.5 })).rejects.toThrow(RangeError);
    await expect(Engine.create({ voiceDir: TINY_VOICE, graphOptimization: 'max' as 'all' })).rejects.toThrow(RangeError);
  });
});

describe('WorkerPool', () => {
  let pool: WorkerPool;
  const started: Worker[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    const voice = await loadVoice(TINY_VOICE);
    pool = await WorkerPool.start({
      size: 1,
      init: { graphFiles: voice.graphFiles, device: 'cpu', intraOpThreads: 1, graphOptimization: 'all', mel: voice.manifest.mel },
      logger: { warn: (m) => warnings.push(m) },
      createWorker: (init) => {
        const worker = createInferenceWorker(init);
        started.push(worker);
        return worker;
      },
    });
  });
  afterAll(() => pool?.close());

  const mel = () => new Float32Array(80 * 10).fill(-5);

  it('rejects the call of a worker that dies with WORKER_DIED, then serves the next call from a replacement', async () => {
    // Terminate first, then call: the call is dispatched to the dying worker but never starts a
    // native run there. Terminating during a run races onnxruntime's async completion against the
    // worker's teardown, which aborts the whole process (a Napi::Error at exit), not just the worker.
    const dying = started[0]!.terminate();
    const call = pool.vocode(mel(), 80, 10);
    await dying;
    await expect(call).rejects.toMatchObject({ name: 'SynthesisError', code: 'WORKER_DIED' });
    const audio = await pool.vocode(mel(), 80, 10);
    expect(audio.length).toBeGreaterThan(0);
    expect(started).toHaveLength(2);
    expect(pool.size).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('rejects a call that onnxruntime refuses with INFERENCE_FAILED and keeps the worker', async () => {
    await expect(pool.vocode(new Float32Array(7), 80, 10)).rejects.toMatchObject({ code: 'INFERENCE_FAILED' });
    expect((await pool.vocode(mel(), 80, 10)).length).toBeGreaterThan(0);
    expect(started).toHaveLength(2);
  });

  it('moves request arrays to the worker instead of copying them', async () => {
    const input = mel();
    const audio = await pool.vocode(input, 80, 10);
    // A transferred ArrayBuffer is detached on the sending side.
    expect(input.byteLength).toBe(0);
    expect(audio.length).toBe(10 * 64);
    const batch = { channels: 80, frames: 10, x: mel(), mu: mel(), mask: new Float32Array(10).fill(1), t: 0.5, rows: 1, emotions: new Float32Array(8) };
    await pool.estimate(batch);
    expect([batch.x, batch.mu, batch.mask, batch.emotions].map((a) => a.byteLength)).toEqual([0, 0, 0, 0]);
  });
});
