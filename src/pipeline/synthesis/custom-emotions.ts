// The emotions a request may name: the voice's centroids plus the caller's own
// embeddings (for instance from embedReference), checked before any inference runs, each
// turned into the graphs' conditioning vector for the request's speaker.
import { conditionDim, type VoiceManifest, type VoiceSpeaker } from '../voice/manifest.js';
import { SynthesisError } from './errors.js';

/** Emotion name → conditioning vector [embeddingDim + speakerDim]. */
export type EmotionTable = ReadonlyMap<string, Float32Array>;

/** The voice's speaker of that id (the first speaker when none is asked for). */
export function findSpeaker(voice: VoiceManifest, id: string | undefined): VoiceSpeaker {
  if (id === undefined) return voice.speakers[0]!;
  const speaker = voice.speakers.find((s) => s.id === id);
  if (!speaker) {
    throw new SynthesisError('SPEAKER_UNKNOWN', `unknown speaker ${JSON.stringify(id)} (known: ${voice.speakers.map((s) => s.id).join(', ')})`);
  }
  return speaker;
}

/** The voice's own emotions per speaker, built on first use: every request of every phrase reads them. */
const ownTables = new WeakMap<VoiceManifest, WeakMap<VoiceSpeaker, EmotionTable>>();

/**
 * Every emotion as [centroid ‖ the speaker's embedding]: the speaker's own centroid where the
 * speaker was recorded in that emotion, the voice's otherwise. Mixes weigh these vectors with
 * weights summing to 1, which leaves the speaker part whole (CONTRACT.md, "Speakers").
 * The voice's part is built once per voice and speaker; a request's custom emotions are added to a copy.
 */
export function emotionTable(voice: VoiceManifest, custom: Record<string, Float32Array> = {}, speaker: VoiceSpeaker = voice.speakers[0]!): EmotionTable {
  const own = ownTable(voice, speaker);
  const names = Object.keys(custom);
  if (names.length === 0) return own;
  const table = new Map(own);
  for (const name of names) {
    const embedding = custom[name];
    if (table.has(name)) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" has the name of one of the voice's emotions`);
    }
    if (!(embedding instanceof Float32Array) || embedding.length !== voice.embeddingDim) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" must be a Float32Array of ${voice.embeddingDim} values`);
    }
    if (!embedding.every(Number.isFinite)) {
      throw new SynthesisError('EMBEDDING_INVALID', `custom emotion "${name}" holds a value that is not finite`);
    }
    table.set(name, withSpeaker(voice, speaker, embedding));
  }
  return table;
}

function ownTable(voice: VoiceManifest, speaker: VoiceSpeaker): EmotionTable {
  let bySpeaker = ownTables.get(voice);
  if (!bySpeaker) ownTables.set(voice, (bySpeaker = new WeakMap()));
  let table = bySpeaker.get(speaker);
  if (!table) {
    const centroids = new Map(speaker.emotions.map((e) => [e.name, e.centroid]));
    table = new Map(voice.emotions.map((e) => [e.name, withSpeaker(voice, speaker, centroids.get(e.name) ?? e.centroid)]));
    bySpeaker.set(speaker, table);
  }
  return table;
}

function withSpeaker(voice: VoiceManifest, speaker: VoiceSpeaker, embedding: Float32Array): Float32Array {
  if (speaker.embedding.length === 0) return embedding;
  const out = new Float32Array(conditionDim(voice));
  out.set(embedding);
  out.set(speaker.embedding, voice.embeddingDim);
  return out;
}
