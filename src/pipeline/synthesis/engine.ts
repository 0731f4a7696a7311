// The synthesis engine the server calls: text or phoneme IDs in, audio and word times
// out. Orchestration and the sampler's arithmetic run here; every ONNX call runs in
// the worker pool.
import { availableParallelism } from 'node:os';
import { phonemize, type Phonemized, type WordSpan } from '../frontend/index.js';
import { checkGraphSignature } from '../voice/graphs.js';
import { loadVoice } from '../voice/load.js';
import { conditionDim, GRAPH_NAMES, type VoiceManifest } from '../voice/manifest.js';
import { batcherDefaults, EstimatorBatcher } from './batcher.js';
import type { EmotionTable } from './custom-emotions.js';
import { expandByDurations, frameMask, padFrames, phonemeMiddlesMs, phonemeStartFrames, phonePositions, roundDurations, totalFrames, wordTimings, type WordTiming } from './durations.js';
import { courseMixAt, frameEmbeddings, frameWeights, mixEmbedding, type EmotionCourse, type Mix, type Ramp } from './emotion-mix.js';
import { SynthesisError, throwIfAborted } from './errors.js';
import { LruCache } from './lru.js';
import { resolveRequest, type SynthesisRequest } from './request.js';
import { Mulberry32 } from './rng.js';
import { anchorPhonemes, emotionCourse, encoderRows, joinRows, missingRows, pickRows, rampMixes, stepMixes } from './phrase-emotion.js';
import { runSampler, type Estimate } from './sampler.js';
import { stepMixPlan } from './step-mix.js';
import { newCallMeter, WorkerPool, type CallMeter, type Logger, type Urgency, type WorkerPoolOptions } from './worker-pool.js';
import type { Device, EncodeResult, GraphOptimization } from './worker-protocol.js';

/** How waiting inference calls are ordered (EngineOptions.scheduling). */
export type Scheduling = 'deadline' | 'arrival';

export interface EngineOptions {
  voiceDir: string;
  /** 'cuda' falls back to the CPU, with one warning, when the CUDA provider cannot load. Default 'cpu'. */
  device?: Device;
  /** Inference worker threads. Default: the machine's cores. */
  workers?: number;
  /** onnxruntime intra-op threads per worker. Default: cores / workers, at least 1. */
  intraOpThreads?: number;
  /** Default 'all'. */
  graphOptimization?: GraphOptimization;
  /** Receives the CUDA fallback line and worker replacement failures. Default: console. */
  logger?: Logger;
  /** Starts one inference worker; fault tests wrap the default to make workers die. */
  createWorker?: WorkerPoolOptions['createWorker'];
  /**
   * Cross-session batching (batcher.ts): estimator steps of concurrent syntheses that meet
   * within `maxWaitMs` (default 2) run as one onnxruntime call of at most `maxRows` rows
   * (default 16); false sends every step on its own. Default: on with the CUDA provider,
   * off on the CPU, where a call's cost grows with its rows and padding and waiting cost
   * more than the calls saved (docs/benchmarks.md).
   */
  batching?: boolean | { maxWaitMs?: number; maxRows?: number };
  /** Phrases whose front-end and encoder results are kept for reuse. Default 256; 0 keeps none. */
  cacheEntries?: number;
  /**
   * Under load, which waiting call a free worker takes: 'deadline' (default), the earliest
   * SynthesisRequest.deadline; 'arrival', the first called, which only the benchmark wants
   * (to measure what deadlines are worth).
   */
  scheduling?: Scheduling;
}

export interface SynthesisTimings {
  frontendMs: number;
  encoderMs: number;
  /** The frame decoder's one call. */
  decoderMs: number;
  /** One entry per estimator call: one per diffusion step, but 2N − 1 for solver 'heun'. */
  estimatorMs: number[];
  vocoderMs: number;
  /** Converting the audio to the request's `sampleRate` (in the worker, after the vocoder); 0 at the voice's rate. */
  resampleMs: number;
  /**
   * The worker calls together (encoder, frame decoder, vocoder, and the estimator when not
   * batched across sessions): waiting for a free worker, computing (onnxruntime, audio
   * conversion), and in messaging between the threads (their wall time less the other two).
   */
  workers: CallMeter;
  totalMs: number;
}

export interface SynthesisResult {
  /** Mono audio at `sampleRate` (the request's, by default the voice's). */
  audio: Float32Array;
  sampleRate: number;
  durationMs: number;
  words: WordTiming[];
  /** Frames of each phoneme ID. */
  durations: Int32Array;
  /** The sampled mel, [nMels, frames] without padding. */
  mel: Float32Array;
  /** The seed the noise came from (the request's, or the one drawn for it). */
  seed: number;
  /** How the emotion was applied. */
  emotion: {
    /** The mix over phrase time: the frame decoder's and the estimator's per-frame weights follow it. */
    course: EmotionCourse;
    /** Phrase time (ms) at which each of the request's changes took over. */
    anchorsMs: number[];
    /**
     * The mixes the phonemes were encoded with (one per distinct mix, ramps in steps, at
     * most MAX_ENCODER_ROWS) and the one each phoneme took.
     */
    rows: Mix[];
    phonemeRows: Int32Array;
  };
  timings: SynthesisTimings;
}

/**
 * The most work one synthesis may cause, whatever the caller sends: a phrase of 1,000
 * digits read as 267 s of audio held 1.4 GB in one estimator call. The server's
 * segmenter keeps phrases to 30 spoken words, far below both.
 */
export const SYNTHESIS_LIMITS = { maxPhonemes: 1000, maxAudioSeconds: 120 } as const;

const GRAPH_OPTIMIZATIONS: readonly GraphOptimization[] = ['disabled', 'basic', 'extended', 'all'];
const DEFAULT_CACHE_ENTRIES = 256;

function checkCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

export class Engine {
  private readonly phonemes: LruCache<string, Phonemized>;
  /** Keyed by the phoneme IDs and the rows' emotion embeddings. */
  private readonly encodings: LruCache<string, EncodeResult>;

  private constructor(
    /** The parsed voice.json. */
    readonly voice: VoiceManifest,
    /** The execution provider in use (after any CUDA fallback). */
    readonly device: Device,
    private readonly pool: WorkerPool,
    private readonly batcher: EstimatorBatcher | undefined,
    cacheEntries: number,
    private readonly scheduling: Scheduling,
  ) {
    this.phonemes = new LruCache(cacheEntries);
    this.encodings = new LruCache(cacheEntries);
  }

  /** Loads and checks the voice, starts the workers; throws VoiceError when the voice cannot be served. */
  static async create(options: EngineOptions): Promise<Engine> {
    const device = options.device ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new RangeError(`device must be "cpu" or "cuda", got ${JSON.stringify(device)}`);
    const graphOptimization = options.graphOptimization ?? 'all';
    if (!GRAPH_OPTIMIZATIONS.includes(graphOptimization)) throw new RangeError(`graphOptimization must be one of ${GRAPH_OPTIMIZATIONS.join(', ')}`);
    const cores = availableParallelism();
    const workers = checkCount(options.workers ?? cores, 'workers');
    const intraOpThreads = checkCount(options.intraOpThreads ?? Math.max(1, Math.floor(cores / workers)), 'intraOpThreads');
    const logger = options.logger ?? console;
    const cacheEntries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
    if (!Number.isInteger(cacheEntries) || cacheEntries < 0) throw new RangeError(`cacheEntries must be an integer ≥ 0, got ${cacheEntries}`);
    const batching = options.batching === true ? {} : options.batching;
    if (batching) {
      if (batching.maxWaitMs !== undefined && !(batching.maxWaitMs >= 0)) throw new RangeError(`batching.maxWaitMs must be ≥ 0, got ${batching.maxWaitMs}`);
      if (batching.maxRows !== undefined) checkCount(batching.maxRows, 'batching.maxRows');
    }

    const loaded = await loadVoice(options.voiceDir);
    const pool = await WorkerPool.start({
      size: workers,
      init: { graphFiles: loaded.graphFiles, device, intraOpThreads, graphOptimization, mel: loaded.manifest.mel },
      logger,
      ...(options.createWorker ? { createWorker: options.createWorker } : {}),
    });
    try {
      for (const graph of GRAPH_NAMES) checkGraphSignature(graph, loaded.graphFiles[graph], pool.info.signatures[graph], loaded.manifest);
    } catch (err) {
      await pool.close();
      throw err;
    }
    if (pool.info.fallbackReason !== undefined) {
      logger.warn(`emomix: the CUDA execution provider could not be loaded, running on the CPU (${pool.info.fallbackReason.split('\n')[0]})`);
    }
    const batchSettings = batching ?? (pool.info.provider === 'cuda' ? {} : false);
    const batcher = batchSettings
      ? new EstimatorBatcher({
          ...batcherDefaults(loaded.manifest.estimator.preset),
          ...batchSettings,
          concurrency: workers,
          run: (batches, urgency) => pool.estimateBatches(batches, urgency),
        })
      : undefined;
    return new Engine(loaded.manifest, pool.info.provider, pool, batcher, cacheEntries, options.scheduling ?? 'deadline');
  }

  /** Phonemizes `text` and synthesizes it. */
  async synthesize(text: string, request: SynthesisRequest): Promise<SynthesisResult> {
    const started = performance.now();
    let phonemized = this.phonemes.get(text);
    if (!phonemized) this.phonemes.set(text, (phonemized = phonemize(text)));
    return this.run(phonemized.ids, phonemized.words, request, started, performance.now() - started);
  }

  /** Synthesizes phoneme IDs that the caller has already produced with the front end. */
  synthesizeIds(ids: readonly number[], words: readonly WordSpan[], request: SynthesisRequest): Promise<SynthesisResult> {
    return this.run(ids, words, request, performance.now(), 0);
  }

  /**
   * The SER embedding of a reference recording (WAV: PCM 8/16/24/32-bit or float, 8–192 kHz,
   * any channel count, at most 30 s: REFERENCE_LIMITS), usable as a custom emotion; a clip
   * outside those limits or with non-finite samples fails with WAV_INVALID.
   */
  async embedReference(wav: Uint8Array): Promise<Float32Array> {
    // Decoding and resampling grow with the clip: the worker does them, within REFERENCE_LIMITS.
    // A copy: the caller's bytes may view a larger buffer (a socket's), which must not be transferred.
    return (await this.pool.reference(new Uint8Array(wav))).embedding;
  }

  /**
   * The voice's SER on a waveform at the voice rate: class probabilities in the order of the
   * voice's emotions (the recogniser's classes), for measuring what emotion an output carries.
   */
  async recognise(wave: Float32Array): Promise<Record<string, number>> {
    if (wave.length <= this.voice.mel.padding) {
      throw new SynthesisError('WAV_INVALID', `the waveform is too short: ${wave.length} samples, need more than ${this.voice.mel.padding}`);
    }
    const { logits } = await this.pool.embed(wave.slice());
    const peak = Math.max(...logits);
    const exp = Array.from(logits, (l) => Math.exp(l - peak));
    const sum = exp.reduce((a, b) => a + b, 0);
    return Object.fromEntries(this.voice.emotions.map((e, k) => [e.name, exp[k]! / sum]));
  }

  /**
   * The voice's vocoder alone on a log-mel spectrogram [nMels, frames] in C order (the
   * recipe's evaluation vocodes its own mels): frames × hop samples at the voice rate.
   */
  async vocode(mel: Float32Array, frames: number): Promise<Float32Array> {
    const { nMels } = this.voice.mel;
    if (!Number.isInteger(frames) || frames < 1 || mel.length !== nMels * frames) {
      throw new SynthesisError('REQUEST_INVALID', `a mel must hold ${nMels} bins × frames values, got ${mel.length} for ${frames} frames`);
    }
    // A copy: the worker takes the buffer, which the caller may still hold.
    return this.pool.vocode(mel.slice(), nMels, frames);
  }

  /** Stops the workers; calls in flight reject with ENGINE_CLOSED. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /**
   * The encoder's μ [rows, nMels, N] and log-durations [rows, N], one row per emotion
   * embedding ([rows, dim]), from the cache when this phrase and these mixes were encoded before.
   */
  private async encode(ids: readonly number[], emotions: Float32Array, rows: number, urgency: Urgency, meter: CallMeter): Promise<EncodeResult> {
    const key = `${ids.join(',')}|${Buffer.from(emotions.buffer, emotions.byteOffset, emotions.byteLength).toString('base64')}`;
    let encoded = this.encodings.get(key);
    if (!encoded) this.encodings.set(key, (encoded = await this.pool.encode(BigInt64Array.from(ids, (id) => BigInt(id)), emotions, rows, urgency, meter)));
    return encoded;
  }

  private async run(ids: readonly number[], words: readonly WordSpan[], request: SynthesisRequest, started: number, frontendMs: number): Promise<SynthesisResult> {
    const voice = this.voice;
    const r = resolveRequest(voice, request);
    if (ids.length === 0) throw new SynthesisError('TEXT_EMPTY', 'nothing to synthesize: no phoneme IDs');
    const badId = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= voice.symbols.length);
    if (badId !== undefined) throw new SynthesisError('REQUEST_INVALID', `phoneme ID ${badId} is outside the symbol table (0…${voice.symbols.length - 1})`);
    if (ids.length > SYNTHESIS_LIMITS.maxPhonemes) {
      throw new SynthesisError('PHRASE_TOO_LONG', `${ids.length} phonemes; one synthesis takes at most ${SYNTHESIS_LIMITS.maxPhonemes}: split the text`);
    }
    throwIfAborted(r.signal);

    const channels = voice.mel.nMels;
    const dim = conditionDim(voice);
    const hop = voice.mel.hopLength;
    const frameMs = (hop / voice.audio.sampleRate) * 1000;
    const meter = newCallMeter();
    const urgency: Urgency = this.scheduling === 'deadline' && r.deadline !== undefined ? { deadline: r.deadline } : {};

    // The encoder and duration predictor run once per distinct mix (batch rows); each
    // phoneme takes its own row's μ and duration, so a change inside the phrase leaves the
    // words before it exactly as they were. Following a ramp needs each phoneme's time,
    // hence durations: they are estimated from a first call on the step mixes (a ramp
    // keeping the mix it starts from), then a second call encodes only the ramp's steps
    // the first lacked. The final durations differ a little from the estimate, so a
    // phoneme near a step's edge may take the step next to where it finally lands.
    const first: { from: Mix; ramp?: Ramp } = { from: r.from, ...(r.ramp ? { ramp: r.ramp } : {}) };
    const anchors = anchorPhonemes(r.changes, words, ids.length);
    let mark = performance.now();
    const stepped = encoderRows(stepMixes(courseMixAt([{ atMs: 0, ...first }], 0), r.changes, anchors, ids.length));
    let encoded = await this.encode(ids, rowEmbeddings(stepped.rows, r.table, dim), stepped.rows.length, urgency, meter);
    throwIfAborted(r.signal);
    const estimated = roundDurations(pickRows(encoded.mu, encoded.logDurations, channels, stepped.phonemeRows).logDurations, r.lengthScale);
    const estimatedStarts = phonemeStartFrames(estimated);
    const encoderCourse = emotionCourse(first, r.changes, anchors.map((p) => estimatedStarts[p]! * frameMs), 0);
    const { rows, phonemeRows } = encoderRows(rampMixes(encoderCourse, anchors, phonemeMiddlesMs(estimated, frameMs)));
    const { missing, at } = missingRows(stepped.rows, rows);
    if (missing.length > 0) encoded = joinRows(encoded, await this.encode(ids, rowEmbeddings(missing, r.table, dim), missing.length, urgency, meter));
    const { mu, logDurations } = pickRows(encoded.mu, encoded.logDurations, channels, phonemeRows.map((k) => at[k]!));
    const encoderMs = performance.now() - mark;
    throwIfAborted(r.signal);

    const durations = roundDurations(logDurations, r.lengthScale);
    const real = totalFrames(durations);
    // Checked before any array grows with the frames: memory and estimator time follow them.
    const seconds = (real * hop) / voice.audio.sampleRate;
    if (seconds > SYNTHESIS_LIMITS.maxAudioSeconds) {
      throw new SynthesisError('PHRASE_TOO_LONG', `${seconds.toFixed(1)} s of audio; one synthesis makes at most ${SYNTHESIS_LIMITS.maxAudioSeconds} s: split the text or speak faster`);
    }
    const frames = padFrames(real, voice.frameMultiple);
    const startFrames = phonemeStartFrames(durations);
    const anchorsMs = anchors.map((p) => startFrames[p]! * frameMs);
    const course = emotionCourse(first, r.changes, anchorsMs, r.transitionMs);
    const weights = frameWeights(course, frames, frameMs);
    mark = performance.now();
    const prior = await this.pool.decode({
      mu: expandByDurations(mu, channels, durations, frames),
      position: phonePositions(durations, frames),
      mask: frameMask(real, frames),
      emotion: frameEmbeddings(weights, r.table, dim),
      channels,
      frames,
    }, urgency, meter);
    const decoderMs = performance.now() - mark;
    throwIfAborted(r.signal);
    const sample = (estimate: Estimate) => runSampler({
      mu: prior,
      mask: frameMask(real, frames),
      channels,
      frames,
      steps: r.steps,
      temperature: r.temperature,
      solver: r.solver,
      betaMin: voice.diffusion.betaMin,
      betaMax: voice.diffusion.betaMax,
      rng: new Mulberry32(r.seed),
      plan: stepMixPlan({ table: r.table, dim, weights, realFrames: real, mode: r.mode, schedule: r.schedule }),
      estimate,
      ...(r.signal ? { signal: r.signal } : {}),
    });
    const { mel: padded, stepMs } = this.batcher ? await this.batcher.session(sample, urgency) : await sample((batch) => this.pool.estimate(batch, urgency, meter));

    const mel = trimFrames(padded, channels, frames, real);
    mark = performance.now();
    const sampleRate = r.sampleRate ?? voice.audio.sampleRate;
    const { audio, resampleMs = 0 } = await this.pool.vocodeAt(mel.slice(), channels, real, sampleRate, urgency, meter);
    const vocoderMs = performance.now() - mark - resampleMs;

    return {
      audio,
      sampleRate,
      durationMs: (audio.length / sampleRate) * 1000,
      words: wordTimings(words, durations, frameMs),
      durations,
      mel,
      seed: r.seed,
      emotion: { course, anchorsMs, rows, phonemeRows },
      timings: { frontendMs, encoderMs, decoderMs, estimatorMs: stepMs, vocoderMs, resampleMs, workers: meter, totalMs: performance.now() - started },
    };
  }
}

/** [rows, dim]: the mixed embedding of each row's mix. */
function rowEmbeddings(rows: readonly Mix[], table: EmotionTable, dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((mix, k) => out.set(mixEmbedding(mix, table, dim), k * dim));
  return out;
}

/** The first `real` frames of a [channels, frames] array. */
function trimFrames(data: Float32Array, channels: number, frames: number, real: number): Float32Array {
  if (real === frames) return data;
  const out = new Float32Array(channels * real);
  for (let c = 0; c < channels; c++) out.set(data.subarray(c * frames, c * frames + real), c * real);
  return out;
}
