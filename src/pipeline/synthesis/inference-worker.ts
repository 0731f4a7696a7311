// A worker thread owning one onnxruntime session per graph. Every ONNX call of the
// engine runs here so that the main thread's event loop never waits on inference.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { GraphSignature, GraphValueInfo } from '../voice/graphs.js';
import { GRAPH_NAMES, type GraphName } from '../voice/manifest.js';
import { LogMel } from './mel.js';
import type {
  Device,
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

async function estimate(session: Session, request: EstimateRequest): Promise<EstimateResult> {
  const first = request.batches[0]!;
  const { channels, frames } = first;
  const dim = first.emotions.length / first.rows;
  const rows = request.batches.reduce((n, b) => n + b.rows, 0);
  const size = channels * frames;
  const x = new Float32Array(rows * size);
  const mu = new Float32Array(rows * size);
  const mask = new Float32Array(rows * frames);
  const t = new Float32Array(rows);
  const emotion = new Float32Array(rows * dim);
  let row = 0;
  for (const batch of request.batches) {
    if (batch.channels !== channels || batch.frames !== frames) throw new Error('estimator batches in one call must share channels and frames');
    emotion.set(batch.emotions, row * dim);
    for (let k = 0; k < batch.rows; k++, row++) {
      x.set(batch.x, row * size);
      mu.set(batch.mu, row * size);
      mask.set(batch.mask, row * frames);
      t[row] = batch.t;
    }
  }
  const out = await session.run({
    x: new ort.Tensor('float32', x, [rows, channels, frames]),
    mu: new ort.Tensor('float32', mu, [rows, channels, frames]),
    mask: new ort.Tensor('float32', mask, [rows, 1, frames]),
    t: new ort.Tensor('float32', t, [rows]),
    emotion: new ort.Tensor('float32', emotion, [rows, dim]),
  });
  const score = out['score']!.data as Float32Array;
  const scores: Float32Array[] = [];
  let offset = 0;
  for (const batch of request.batches) {
    scores.push(score.slice(offset, offset + batch.rows * size));
    offset += batch.rows * size;
  }
  return { scores };
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
  const ser = async (mel: Float32Array, frames: number): Promise<SerResult> => {
    const out = await sessions.ser.run({ mel: new ort.Tensor('float32', mel, [1, init.mel.nMels, frames]) });
    return { embedding: owned(out['embedding']!.data), logits: owned(out['logits']!.data) };
  };

  const handlers: { [Op in InferenceRequest['op']]: (r: Extract<InferenceRequest, { op: Op }>) => Promise<ResultOf[Op]> } = {
    encode: async ({ phonemes, emotion }): Promise<EncodeResult> => {
      const n = phonemes.length;
      const out = await sessions.encoder.run({
        phonemes: new ort.Tensor('int64', phonemes, [1, n]),
        phoneme_lengths: new ort.Tensor('int64', BigInt64Array.of(BigInt(n)), [1]),
        emotion: new ort.Tensor('float32', emotion, [1, emotion.length]),
      });
      return { mu: owned(out['mu']!.data), logDurations: owned(out['log_durations']!.data) };
    },
    estimate: (request) => estimate(sessions.estimator, request),
    vocode: async ({ mel, channels, frames }): Promise<VocodeResult> => {
      const out = await sessions.vocoder.run({ mel: new ort.Tensor('float32', mel, [1, channels, frames]) });
      return { audio: owned(out['audio']!.data) };
    },
    ser: ({ mel, frames }) => ser(mel, frames),
    embed: ({ wave }) => {
      const { data, frames } = logMel.compute(wave);
      return ser(data, frames);
    },
  };

  // One request at a time: the pool sends a worker its next request only after the reply.
  port.on('message', async ({ id, request }: { id: number; request: InferenceRequest }) => {
    let reply: WorkerReply;
    try {
      const handler = handlers[request.op] as (r: InferenceRequest) => Promise<ResultOf[keyof ResultOf]>;
      reply = { id, ok: true, result: await handler(request) };
    } catch (err) {
      reply = { id, ok: false, message: (err as Error).message };
    }
    port.postMessage(reply, reply.ok ? transferablesOf(reply.result) : []);
  });

  const signatures = Object.fromEntries(
    GRAPH_NAMES.map((g) => [g, { inputs: describe(sessions[g].inputMetadata), outputs: describe(sessions[g].outputMetadata) } satisfies GraphSignature]),
  ) as Record<GraphName, GraphSignature>;
  port.postMessage({ type: 'ready', signatures, provider: opened.provider, ...(opened.fallbackReason ? { fallbackReason: opened.fallbackReason } : {}) } satisfies WorkerStartup);
}

await main();
