// The emotions a request may name: the voice's centroids plus the caller's own
// embeddings (for instance from embedReference), checked before any inference runs.
import type { VoiceManifest } from '../voice/manifest.js';
import { SynthesisError } from './errors.js';

export type EmotionTable = ReadonlyMap<string, Float32Array>;

export function emotionTable(voice: VoiceManifest, custom: Record<string, Float32Array> = {}): EmotionTable {
  const table = new Map<string, Float32Array>(voice.emotions.map((e) => [e.name, e.centroid]));
  for (const [name, embedding] of Object.entries(custom)) {
    if (table.has(name)) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" has the name of one of the voice's emotions`);
    }
    if (!(embedding instanceof Float32Array) || embedding.length !== voice.embeddingDim) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" must be a Float32Array of ${voice.embeddingDim} values`);
    }
    if (!embedding.every(Number.isFinite)) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" holds a value that is not finite`);
    }
    table.set(name, embedding);
  }
  return table;
}
