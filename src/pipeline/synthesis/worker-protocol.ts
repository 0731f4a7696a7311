// Messages between the worker pool (main thread) and inference workers. Arrays travel
// as transferable typed arrays; everything else is plain data.
import type { GraphSignature } from '../voice/graphs.js';
import type { GraphName, MelConfig } from '../voice/manifest.js';
import type { SynthesisErrorCode } from './errors.js';
import type { EstimatorBatch } from './sampler.js';

export type Device = 'cpu' | 'cuda';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface WorkerInit {
  graphFiles: Record<GraphName, string>;
  device: Device;
  intraOpThreads: number;
  graphOptimization: GraphOptimization;
  mel: MelConfig;
}

export type WorkerStartup =
  | { type: 'ready'; signatures: Record<GraphName, GraphSignature>; provider: Device; fallbackReason?: string }
  | { type: 'init-failed'; graph: GraphName; message: string };

export interface EncodeRequest {
  op: 'encode';
  /** [phonemes] symbol IDs of one utterance, encoded once per emotion row. */
  phonemes: BigInt64Array;
  /** [rows, embeddingDim + speakerDim], conditioning vectors */
  emotions: Float32Array;
  rows: number;
}
export interface EncodeResult {
  /** [rows, nMels, phonemes] */
  mu: Float32Array;
  /** [rows, phonemes] */
  logDurations: Float32Array;
}

/** The frame decoder (CONTRACT.md): per-phoneme μ expanded over frames → per-frame prior μ. */
export interface DecodeRequest {
  op: 'decode';
  /** [channels, frames], μ repeated by the durations */
  mu: Float32Array;
  /** [2, frames] (durations.ts: phonePositions) */
  position: Float32Array;
  /** [frames] */
  mask: Float32Array;
  /** [embeddingDim + speakerDim, frames], the mix of every frame */
  emotion: Float32Array;
  channels: number;
  frames: number;
}
export interface DecodeResult {
  /** [channels, frames] */
  prior: Float32Array;
}

/**
 * Several batches run as one estimator call, their rows stacked on the batch axis and
 * padded to the longest (batcher.ts: packBatches); the batcher sends concurrent sessions'
 * steps together this way.
 */
export interface EstimateRequest {
  op: 'estimate';
  batches: EstimatorBatch[];
}
export interface EstimateResult {
  /** One [rows, channels, frames] array per batch, in request order, without the padding. */
  scores: Float32Array[];
}

export interface VocodeRequest {
  op: 'vocode';
  /** [channels, frames] */
  mel: Float32Array;
  channels: number;
  frames: number;
  /**
   * Given: the audio is cut to frames × hop samples and converted to this rate when it is not
   * the voice's, here rather than on the caller's thread. Absent: the vocoder's output as it is.
   */
  sampleRate?: number;
}
export interface VocodeResult {
  audio: Float32Array;
  /** The conversion to `sampleRate`, when asked for. */
  resampleMs?: number;
}

/** SER of a log-mel. */
export interface SerRequest {
  op: 'ser';
  /** [nMels, frames] */
  mel: Float32Array;
  frames: number;
}
/** Log-mel, then SER, of a waveform: the feature extraction stays off the main thread too. */
export interface EmbedRequest {
  op: 'embed';
  /** Mono waveform at the voice's sample rate. */
  wave: Float32Array;
}
export interface SerResult {
  /** [embeddingDim] */
  embedding: Float32Array;
  /** [emotion classes] */
  logits: Float32Array;
}

/** A reference recording: WAV decoding, its checks and resampling (reference-clip.ts), then log-mel and SER. */
export interface ReferenceRequest {
  op: 'reference';
  wav: Uint8Array;
}

export type InferenceRequest = EncodeRequest | DecodeRequest | EstimateRequest | VocodeRequest | SerRequest | EmbedRequest | ReferenceRequest;

export interface ResultOf {
  encode: EncodeResult;
  decode: DecodeResult;
  estimate: EstimateResult;
  vocode: VocodeResult;
  ser: SerResult;
  embed: SerResult;
  reference: SerResult;
}

export type WorkerReply =
  /** workMs: time computing this request (onnxruntime's runs, audio conversion); the rest of the call's wall time is messaging. */
  | { id: number; ok: true; result: ResultOf[keyof ResultOf]; workMs: number }
  | { id: number; ok: false; message: string; code?: SynthesisErrorCode };

/** The typed arrays reachable in a message, for the transfer list. */
export function transferablesOf(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && !out.includes(value.buffer)) out.push(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) transferablesOf(item, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) transferablesOf(item, out);
  }
  return out;
}
