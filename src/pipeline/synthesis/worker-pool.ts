// A pool of inference workers (inference-worker.ts). Calls queue until a worker is
// free (earliest deadline first), each worker runs one call at a time, arrays are
// transferred rather than copied, and a worker that dies fails only its own call and
// is replaced. Closing never terminates a worker while onnxruntime runs in it: that
// aborts the whole process (the native call completes into a torn-down thread).
import { Worker } from 'node:worker_threads';
import { VoiceError } from '../voice/errors.js';
import { SynthesisError } from './errors.js';
import type { EstimatorBatch } from './sampler.js';
import {
  transferablesOf,
  type DecodeRequest,
  type EncodeResult,
  type InferenceRequest,
  type ResultOf,
  type SerResult,
  type VocodeResult,
  type WorkerInit,
  type WorkerReply,
  type WorkerStartup,
} from './worker-protocol.js';

export interface Logger {
  warn(message: string): void;
}

export type WorkerReady = Extract<WorkerStartup, { type: 'ready' }>;

export interface WorkerPoolOptions {
  size: number;
  init: WorkerInit;
  logger?: Logger;
  /** Starts one worker; the default runs inference-worker next to this module. */
  createWorker?: (init: WorkerInit) => Worker;
}

/** Starts inference-worker from the file beside this module: the compiled .js, or the .ts source under tsx or vitest. */
export function createInferenceWorker(init: WorkerInit): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(fromSource ? './inference-worker.ts' : './inference-worker.js', import.meta.url);
  if (!fromSource) return new Worker(file, { workerData: init });
  // On Node 20 `execArgv: ['--import', 'tsx']` does not work: tsx installs its hooks only
  // on the main thread there. Its tsImport loads a TypeScript module from any thread.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ tsImport }) => tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

/**
 * Where the wall time of a caller's worker calls went, summed over the calls that were
 * given it: waiting for a free worker, computing (onnxruntime, audio conversion), and
 * the rest (posting the request, copying and transferring arrays, the reply waiting
 * for the caller's thread).
 */
export interface CallMeter {
  queuedMs: number;
  workMs: number;
  messagingMs: number;
}

export const newCallMeter = (): CallMeter => ({ queuedMs: 0, workMs: 0, messagingMs: 0 });

/**
 * When a call's result is wanted. A free worker takes the earliest deadline, then the first
 * queued: a session about to run out of audio overtakes one with seconds buffered, and a
 * new session's first phrase (wanted now) overtakes the rest of another's long text.
 */
export interface Urgency {
  /** performance.now() by which the result is wanted. Default: the time of the call. */
  deadline?: number;
}

interface Call {
  id: number;
  request: InferenceRequest;
  deadline: number;
  resolve(result: unknown): void;
  reject(error: Error): void;
  meter?: CallMeter;
  calledAt: number;
  postedAt?: number;
}

interface Slot {
  worker: Worker;
  state: 'starting' | 'ready' | 'failed';
  call?: Call;
  error?: Error;
  /** Resolved when the worker has neither a call in flight nor sessions being opened (close waits for it). */
  quiet: (() => void)[];
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Call[] = [];
  private nextId = 1;
  private closed = false;
  private readyInfo!: WorkerReady;

  private constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts `size` workers and waits until each has opened its sessions. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const started = await Promise.allSettled(Array.from({ length: Math.max(1, options.size) }, () => pool.spawn()));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await pool.close();
      throw failure.reason;
    }
    pool.readyInfo = (started[0] as PromiseFulfilledResult<WorkerReady>).value;
    return pool;
  }

  /** What the first worker reported: graph signatures and the execution provider in use. */
  get info(): WorkerReady {
    return this.readyInfo;
  }

  /** Workers started or starting. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Every synthesis call takes an optional Urgency: when calls wait for a worker, the
   * earliest deadline goes first. A `meter`, when given, adds up where the call's time went.
   */
  encode(phonemes: BigInt64Array, emotions: Float32Array, rows: number, urgency?: Urgency, meter?: CallMeter): Promise<EncodeResult> {
    return this.call({ op: 'encode', phonemes, emotions, rows }, urgency, meter);
  }

  /** The frame decoder on one utterance; the arrays are transferred. */
  async decode(request: Omit<DecodeRequest, 'op'>, urgency?: Urgency, meter?: CallMeter): Promise<Float32Array> {
    return (await this.call({ op: 'decode', ...request }, urgency, meter)).prior;
  }

  /**
   * One estimator call for all of a step's emotion rows; resolves to [rows, channels, frames].
   * The batch's arrays are transferred to the worker and unusable afterwards, except those
   * on a SharedArrayBuffer, which the worker reads in place.
   */
  async estimate(batch: EstimatorBatch, urgency?: Urgency, meter?: CallMeter): Promise<Float32Array> {
    return (await this.estimateBatches([batch], urgency, meter))[0]!;
  }

  /** One estimator call for several batches (of any frame counts; see batcher.ts); one score array per batch. */
  async estimateBatches(batches: EstimatorBatch[], urgency?: Urgency, meter?: CallMeter): Promise<Float32Array[]> {
    return (await this.call({ op: 'estimate', batches }, urgency, meter)).scores;
  }

  /** [channels, frames] mel → the vocoder's waveform; `mel` is transferred. */
  async vocode(mel: Float32Array, channels: number, frames: number, urgency?: Urgency, meter?: CallMeter): Promise<Float32Array> {
    return (await this.call({ op: 'vocode', mel, channels, frames }, urgency, meter)).audio;
  }

  /** [channels, frames] mel → frames × hop samples of waveform, converted to `sampleRate` in the worker; `mel` is transferred. */
  vocodeAt(mel: Float32Array, channels: number, frames: number, sampleRate: number, urgency?: Urgency, meter?: CallMeter): Promise<VocodeResult> {
    return this.call({ op: 'vocode', mel, channels, frames, sampleRate }, urgency, meter);
  }

  /** SER of a [nMels, frames] log-mel; `mel` is transferred. */
  ser(mel: Float32Array, frames: number): Promise<SerResult> {
    return this.call({ op: 'ser', mel, frames });
  }

  /** A reference recording's SER, decoded, checked and resampled in the worker (reference-clip.ts); `wav` is transferred. */
  reference(wav: Uint8Array): Promise<SerResult> {
    return this.call({ op: 'reference', wav });
  }

  /** Log-mel and SER of a mono waveform at the voice rate; `wave` is transferred. */
  embed(wave: Float32Array): Promise<SerResult> {
    return this.call({ op: 'embed', wave });
  }

  /**
   * Refuses new calls and fails the queued ones with ENGINE_CLOSED; a call in flight
   * finishes (its caller gets its result) before its worker is terminated. A cancelled
   * synthesis stops at its next estimator step, so that wait is one call's time.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const call of this.queue.splice(0)) call.reject(new SynthesisError('ENGINE_CLOSED', 'the engine was closed'));
    await Promise.all([...this.slots].map(async (slot) => {
      if (slot.call || slot.state === 'starting') await new Promise<void>((resolve) => slot.quiet.push(resolve));
      await slot.worker.terminate();
    }));
  }

  private call<Op extends InferenceRequest['op']>(request: Extract<InferenceRequest, { op: Op }>, urgency: Urgency = {}, meter?: CallMeter): Promise<ResultOf[Op]> {
    if (this.closed) return Promise.reject(new SynthesisError('ENGINE_CLOSED', 'the engine was closed'));
    return new Promise<ResultOf[Op]>((resolve, reject) => {
      const { deadline = performance.now() } = urgency;
      this.queue.push({ id: this.nextId++, request, deadline, resolve: resolve as (r: unknown) => void, reject, calledAt: performance.now(), ...(meter ? { meter } : {}) });
      // Every worker died and none could be replaced (its graphs unreadable, say): try again
      // for this call rather than leave it waiting for a worker that never comes.
      if (this.slots.size === 0) this.replace();
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state !== 'ready' || slot.call) continue;
      const call = this.takeMostUrgent();
      call.postedAt = performance.now();
      try {
        slot.worker.postMessage({ id: call.id, request: call.request }, transferablesOf(call.request));
        slot.call = call;
      } catch (err) {
        call.reject(new SynthesisError('INFERENCE_FAILED', `${call.request.op}: cannot send the request: ${(err as Error).message}`, { cause: err }));
      }
    }
  }

  /** Removes and returns the queued call that goes first (see Urgency; the first queued among equals). */
  private takeMostUrgent(): Call {
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) if (this.queue[i]!.deadline < this.queue[best]!.deadline) best = i;
    return this.queue.splice(best, 1)[0]!;
  }

  private spawn(): Promise<WorkerReady> {
    const { init } = this.options;
    return new Promise<WorkerReady>((resolve, reject) => {
      const worker = (this.options.createWorker ?? createInferenceWorker)(init);
      const slot: Slot = { worker, state: 'starting', quiet: [] };
      this.slots.add(slot);
      worker.on('message', (message: WorkerStartup | WorkerReply) => {
        if (slot.state !== 'starting') return this.settle(slot, message as WorkerReply);
        if ('type' in message && message.type === 'ready') {
          slot.state = 'ready';
          resolve(message);
          this.dispatch();
        } else {
          slot.state = 'failed';
          const failed = message as Extract<WorkerStartup, { type: 'init-failed' }>;
          reject(new VoiceError('VOICE_GRAPH_LOAD_FAILED', init.graphFiles[failed.graph], undefined, `onnxruntime cannot load it: ${failed.message}`));
          void worker.terminate();
        }
        this.quieted(slot);
      });
      worker.on('error', (err) => {
        slot.error = err;
      });
      worker.on('exit', (code) => {
        this.slots.delete(slot);
        const why = slot.error ? slot.error.message : `exit code ${code}`;
        if (slot.state === 'starting') reject(new SynthesisError('WORKER_DIED', `an inference worker died while starting (${why})`, { cause: slot.error }));
        if (slot.call) {
          const { request, reject: fail } = slot.call;
          slot.call = undefined;
          fail(
            this.closed
              ? new SynthesisError('ENGINE_CLOSED', 'the engine was closed')
              : new SynthesisError('WORKER_DIED', `the inference worker running ${request.op} died (${why})`, { cause: slot.error }),
          );
        }
        if (!this.closed && slot.state === 'ready') this.replace();
        this.failQueueIfNoWorkers();
        this.quieted(slot);
      });
    });
  }

  private replace(): void {
    this.spawn().catch((err: Error) => {
      if (this.closed) return;
      this.options.logger?.warn(`emomix: could not replace a dead inference worker: ${err.message}`);
      this.failQueueIfNoWorkers();
    });
  }

  private failQueueIfNoWorkers(): void {
    if (this.slots.size > 0) return;
    for (const call of this.queue.splice(0)) call.reject(new SynthesisError('WORKER_DIED', 'no inference worker is left'));
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const call = slot.call;
    if (!call || call.id !== reply.id) return;
    slot.call = undefined;
    if (call.meter && reply.ok) {
      const posted = call.postedAt!;
      call.meter.queuedMs += posted - call.calledAt;
      call.meter.workMs += reply.workMs;
      call.meter.messagingMs += performance.now() - posted - reply.workMs;
    }
    if (reply.ok) call.resolve(reply.result);
    // The worker's own refusals (a bad reference clip) keep their code and message.
    else call.reject(reply.code ? new SynthesisError(reply.code, reply.message) : new SynthesisError('INFERENCE_FAILED', `${call.request.op}: ${reply.message}`));
    this.dispatch();
    if (!slot.call) this.quieted(slot);
  }

  private quieted(slot: Slot): void {
    for (const resolve of slot.quiet.splice(0)) resolve();
  }
}
