// A worker thread owning one onnxruntime session per graph. Every ONNX call of the
// engine runs here so that the main thread's event loop never waits on inference.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { GraphSignature, GraphValueInfo } from '../voice/graphs.js';
import { createPolyphaseResampler } from '../../stream/polyphase.js';
import type { Resampler } from '../../stream/resampler.js';
import { GRAPH_NAMES, type GraphName } from '../voice/manifest.js';
import { packBatches, splitScores } from './batcher.js';
import { SynthesisError } from './errors.js';
import { LogMel } from './mel.js';
import { checkEmbedding, referenceSamples } from './reference-clip.js';
import type {
  Device,
  DecodeResult,
  EncodeResult,
  EstimateRequest,
  EstimateResult,
  InferenceRequest,
  ResultOf,
  SerResult,
  VocodeResult,
  WorkerInit,
  WorkerReply,
  WorkerStartup,
} from './worker-protocol.js';
import { transferablesOf } from './worker-protocol.js';

type Session = ort.InferenceSession;

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): GraphValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));
}

function sessionOptions(init: WorkerInit, device: Device): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [device],
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: init.graphOptimization,
    executionMode: 'sequential',
    // Shapes repeat (the same phrase lengths, step after step), which is what the arena and
    // memory-pattern planner pay off on.
    enableCpuMemArena: true,
    enableMemPattern: true,
    // Idle intra-op threads spin by default, burning the cores that the other workers and
    // the main thread (Opus, sockets) need: measured here, off halves both the CPU time and
    // the wall time of a 2-thread estimator call on 2 busy cores.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

class GraphOpenError extends Error {
  constructor(
    readonly graph: GraphName,
    cause: unknown,
  ) {
    super((cause as Error).message, { cause });
  }
}

async function openAll(init: WorkerInit, device: Device): Promise<Record<GraphName, Session>> {
  const sessions = {} as Record<GraphName, Session>;
  for (const graph of GRAPH_NAMES) {
    try {
      sessions[graph] = await ort.InferenceSession.create(init.graphFiles[graph], sessionOptions(init, device));
    } catch (err) {
      await Promise.all(Object.values(sessions).map((s) => s.release()));
      throw new GraphOpenError(graph, err);
    }
  }
  return sessions;
}

async function openSessions(init: WorkerInit): Promise<{ sessions: Record<GraphName, Session>; provider: Device; fallbackReason?: string }> {
  if (init.device === 'cuda') {
    // A missing CUDA provider is reported by onnxruntime's own logger as well as thrown;
    // the engine logs one line of its own instead. onnxruntime reads the level when its
    // (process-wide) environment is created, so this only takes effect before any session.
    ort.env.logLevel = 'fatal';
    try {
      return { sessions: await openAll(init, 'cuda'), provider: 'cuda' };
    } catch (err) {
      // The CUDA provider is missing or cannot start: serve on the CPU rather than not at all.
      return { sessions: await openAll(init, 'cpu'), provider: 'cpu', fallbackReason: (err as Error).message };
    }
  }
  return { sessions: await openAll(init, 'cpu'), provider: 'cpu' };
}

function owned(data: ort.Tensor['data']): Float32Array {
  // Output tensors may view memory owned by onnxruntime; a copy owns a transferable buffer.
  return (data as Float32Array).slice();
}

/**
 * Input arrays reused from call to call: a step's inputs are several times the size of
 * its mel, and allocating (and zeroing) them anew at every step only feeds the GC.
 * onnxruntime reads a subarray in place, so a longer buffer serves a shorter call.
 */
class Arena {
  private readonly buffers = new Map<string, Float32Array>();

  take(name: string, length: number): Float32Array {
    let buffer = this.buffers.get(name);
    if (!buffer || buffer.length < length) {
      buffer = new Float32Array(length);
      this.buffers.set(name, buffer);
    }
    return buffer.subarray(0, length);
  }
}

/**
 * Time spent computing (onnxruntime's runs, audio conversion) since the current request
 * began: the pool counts the rest of the call's wall time as messaging.
 */
let workMs = 0;

async function working<T>(work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    workMs += performance.now() - started;
  }
}

const run = (session: Session, feeds: Record<string, ort.Tensor>) => working(() => session.run(feeds));

async function estimate(session: Session, arena: Arena, request: EstimateRequest): Promise<EstimateResult> {
  const p = packBatches(request.batches, (name, length) => arena.take(name, length));
  const out = await run(session, {
    x: new ort.Tensor('float32', p.x, [p.rows, p.channels, p.frames]),
    mu: new ort.Tensor('float32', p.mu, [p.rows, p.channels, p.frames]),
    mask: new ort.Tensor('float32', p.mask, [p.rows, 1, p.frames]),
    t: new ort.Tensor('float32', p.t, [p.rows]),
    emotion: new ort.Tensor('float32', p.emotion, [p.rows, p.dim]),
  });
  return { scores: splitScores(out['score']!.data as Float32Array, request.batches, p.frames) };
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  let opened: Awaited<ReturnType<typeof openSessions>>;
  try {
    opened = await openSessions(init);
  } catch (err) {
    const graph = err instanceof GraphOpenError ? err.graph : 'encoder';
    port.postMessage({ type: 'init-failed', graph, message: (err as Error).message } satisfies WorkerStartup);
    return;
  }
  const { sessions } = opened;
  const logMel = new LogMel(init.mel);
  const arena = new Arena();
  const resamplers = new Map<number, Resampler>();
  const resamplerTo = (rate: number): Resampler => {
    let resampler = resamplers.get(rate);
    if (!resampler) resamplers.set(rate, (resampler = createPolyphaseResampler(init.mel.sampleRate, rate)));
    return resampler;
  };
  const ser = async (mel: Float32Array, frames: number): Promise<SerResult> => {
    const out = await run(sessions.ser, { mel: new ort.Tensor('float32', mel, [1, init.mel.nMels, frames]) });
    return { embedding: owned(out['embedding']!.data), logits: owned(out['logits']!.data) };
  };

  const handlers: { [Op in InferenceRequest['op']]: (r: Extract<InferenceRequest, { op: Op }>) => Promise<ResultOf[Op]> } = {
    encode: async ({ phonemes, emotions, rows }): Promise<EncodeResult> => {
      const n = phonemes.length;
      const batch = new BigInt64Array(rows * n);
      for (let r = 0; r < rows; r++) batch.set(phonemes, r * n);
      const out = await run(sessions.encoder, {
        phonemes: new ort.Tensor('int64', batch, [rows, n]),
        phoneme_lengths: new ort.Tensor('int64', new BigInt64Array(rows).fill(BigInt(n)), [rows]),
        emotion: new ort.Tensor('float32', emotions, [rows, emotions.length / rows]),
      });
      return { mu: owned(out['mu']!.data), logDurations: owned(out['log_durations']!.data) };
    },
    decode: async ({ mu, position, mask, emotion, channels, frames }): Promise<DecodeResult> => {
      const out = await run(sessions.decoder, {
        mu: new ort.Tensor('float32', mu, [1, channels, frames]),
        position: new ort.Tensor('float32', position, [1, 2, frames]),
        mask: new ort.Tensor('float32', mask, [1, 1, frames]),
        emotion: new ort.Tensor('float32', emotion, [1, emotion.length / frames, frames]),
      });
      return { prior: owned(out['prior']!.data) };
    },
    estimate: (request) => estimate(sessions.estimator, arena, request),
    vocode: async ({ mel, channels, frames, sampleRate }): Promise<VocodeResult> => {
      const out = await run(sessions.vocoder, { mel: new ort.Tensor('float32', mel, [1, channels, frames]) });
      const data = out['audio']!.data as Float32Array;
      if (sampleRate === undefined) return { audio: owned(data) };
      const audio = data.length > frames * init.mel.hopLength ? data.subarray(0, frames * init.mel.hopLength) : data;
      if (sampleRate === init.mel.sampleRate) return { audio: owned(audio) };
      const started = performance.now();
      // The resampler's output is a fresh array: no copy of onnxruntime's first.
      const converted = await working(() => resamplerTo(sampleRate).process(audio));
      return { audio: converted, resampleMs: performance.now() - started };
    },
    ser: ({ mel, frames }) => ser(mel, frames),
    embed: ({ wave }) => {
      const { data, frames } = logMel.compute(wave);
      return ser(data, frames);
    },
    reference: async ({ wav }) => {
      const wave = await referenceSamples(wav, init.mel.sampleRate, init.mel.padding);
      const { data, frames } = logMel.compute(wave);
      const result = await ser(data, frames);
      checkEmbedding(result.embedding);
      return result;
    },
  };

  // One request at a time: the pool sends a worker its next request only after the reply.
  port.on('message', async ({ id, request }: { id: number; request: InferenceRequest }) => {
    let reply: WorkerReply;
    workMs = 0;
    try {
      const handler = handlers[request.op] as (r: InferenceRequest) => Promise<ResultOf[keyof ResultOf]>;
      reply = { id, ok: true, result: await handler(request), workMs };
    } catch (err) {
      reply = { id, ok: false, message: (err as Error).message, ...(err instanceof SynthesisError ? { code: err.code } : {}) };
    }
    port.postMessage(reply, reply.ok ? transferablesOf(reply.result) : []);
  });

  const signatures = Object.fromEntries(
    GRAPH_NAMES.map((g) => [g, { inputs: describe(sessions[g].inputMetadata), outputs: describe(sessions[g].outputMetadata) } satisfies GraphSignature]),
  ) as Record<GraphName, GraphSignature>;
  port.postMessage({ type: 'ready', signatures, provider: opened.provider, ...(opened.fallbackReason ? { fallbackReason: opened.fallbackReason } : {}) } satisfies WorkerStartup);
}

await main();
