// Reads the recipe's reference cases (test/fixtures/README.md): tensors as base64 of
// little-endian raw values. EMOMIX_FIXTURES points elsewhere when regenerating them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { WorkerPool } from '../src/pipeline/synthesis/worker-pool.js';
import type { WorkerInit } from '../src/pipeline/synthesis/worker-protocol.js';
import { loadVoice, type LoadedVoice } from '../src/pipeline/voice/load.js';

export const FIXTURES = process.env['EMOMIX_FIXTURES'] ?? fileURLToPath(new URL('./fixtures', import.meta.url));
export const TINY_VOICE = join(FIXTURES, 'tiny-voice');
export const TINY_SPEAKERS_VOICE = join(FIXTURES, 'tiny-voice-speakers');

/** Single-threaded CPU inference, so results do not depend on the machine's cores. */
export function cpuWorkerInit(voice: LoadedVoice): WorkerInit {
  return { graphFiles: voice.graphFiles, device: 'cpu', intraOpThreads: 1, graphOptimization: 'all', mel: voice.manifest.mel };
}

export interface TinyVoicePool {
  voice: LoadedVoice;
  pool: WorkerPool;
}

/**
 * The tiny voice and one inference worker for the enclosing describe, closed after it.
 * The fields are filled in by beforeAll, so read them only inside hooks and tests.
 */
export function tinyVoicePool(): TinyVoicePool {
  const tiny = {} as TinyVoicePool;
  beforeAll(async () => {
    tiny.voice = await loadVoice(TINY_VOICE);
    tiny.pool = await WorkerPool.start({ size: 1, init: cpuWorkerInit(tiny.voice) });
  });
  afterAll(() => tiny.pool?.close());
  return tiny;
}

interface RawTensor {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: string;
}

export interface Tensor {
  shape: number[];
  data: Float32Array | BigInt64Array;
}

export interface ReferenceCase {
  params: Record<string, unknown>;
  inputs: Record<string, Tensor>;
  outputs: Record<string, Tensor>;
}

function decode(raw: RawTensor): Tensor {
  const bytes = Buffer.from(raw.data, 'base64');
  // Copy into a fresh, aligned buffer: Buffer pools may start at any offset.
  const buffer = new Uint8Array(bytes).buffer;
  return { shape: raw.shape, data: raw.dtype === 'float32' ? new Float32Array(buffer) : new BigInt64Array(buffer) };
}

export function loadCase(name: string): ReferenceCase {
  const json = JSON.parse(readFileSync(join(FIXTURES, 'reference', `${name}.json`), 'utf8')) as {
    params: Record<string, unknown>;
    inputs: Record<string, RawTensor>;
    outputs: Record<string, RawTensor>;
  };
  const all = (group: Record<string, RawTensor>) => Object.fromEntries(Object.entries(group).map(([k, v]) => [k, decode(v)]));
  return { params: json.params, inputs: all(json.inputs), outputs: all(json.outputs) };
}

export function floats(t: Tensor | undefined): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new Error('expected a float32 tensor');
  return t.data;
}

export function ints(t: Tensor | undefined): number[] {
  if (!t || !(t.data instanceof BigInt64Array)) throw new Error('expected an int64 tensor');
  return Array.from(t.data, Number);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
