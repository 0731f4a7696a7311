import { describe, expect, it } from 'vitest';
import { emotionTable } from '../src/pipeline/synthesis/custom-emotions.js';
import { averageMix, CheckedMix, checkedMix, frameEmbeddings, frameWeights, mixAtFrame, mixEmbedding, mixFromWeights, withIntensity } from '../src/pipeline/synthesis/emotion-mix.js';
import { resolveRequest } from '../src/pipeline/synthesis/request.js';
import type { VoiceManifest } from '../src/pipeline/voice/manifest.js';

const VOICE = {
  embeddingDim: 2,
  neutral: 'neutral',
  emotions: [
    { name: 'neutral', centroid: Float32Array.from([0, 0]) },
    { name: 'happy', centroid: Float32Array.from([1, 0]) },
    { name: 'sad', centroid: Float32Array.from([0, 1]) },
  ],
  speakerDim: 0,
  speakers: [{ id: 'default', name: 'default', embedding: new Float32Array(0), emotions: [] }],
  diffusion: { betaMin: 0.05, betaMax: 20, steps: 4, temperature: 1.5, solver: 'ode', lengthScale: 1 },
} as unknown as VoiceManifest;
const TABLE = emotionTable(VOICE);

describe('mixFromWeights', () => {
  it('normalises to sum 1 and drops zero weights', () => {
    expect([...mixFromWeights({ happy: 3, sad: 1, neutral: 0 }, TABLE)]).toEqual([['happy', 0.75], ['sad', 0.25]]);
  });

  it('refuses unknown names, negative, NaN and all-zero weights with their codes', () => {
    expect(() => mixFromWeights({ angry: 1 }, TABLE)).toThrow(expect.objectContaining({ code: 'EMOTION_UNKNOWN' }));
    expect(() => mixFromWeights({ happy: -1 }, TABLE)).toThrow(expect.objectContaining({ code: 'WEIGHT_INVALID' }));
    expect(() => mixFromWeights({ happy: Number.NaN }, TABLE)).toThrow(expect.objectContaining({ code: 'WEIGHT_INVALID' }));
    expect(() => mixFromWeights({ happy: 0 }, TABLE)).toThrow(expect.objectContaining({ code: 'WEIGHT_INVALID' }));
    expect(() => mixFromWeights({}, TABLE)).toThrow(expect.objectContaining({ code: 'WEIGHT_INVALID' }));
  });
});

describe('withIntensity', () => {
  it('mixes (1 − α)·neutral + α·mix', () => {
    const mix = mixFromWeights({ happy: 1, neutral: 1 }, TABLE);
    expect(Object.fromEntries(withIntensity(mix, 'neutral', 0.4))).toEqual({ happy: 0.2, neutral: 0.8 });
    expect(Object.fromEntries(withIntensity(mix, 'neutral', 0))).toEqual({ neutral: 1 });
  });
});

describe('frameWeights', () => {
  const from = mixFromWeights({ happy: 1 }, TABLE);
  const to = mixFromWeights({ sad: 1 }, TABLE);

  it('is constant without a ramp', () => {
    const w = frameWeights([{ atMs: 0, from }], 3, 10);
    expect(w.names).toEqual(['happy']);
    expect(Array.from(w.data)).toEqual([1, 1, 1]);
  });

  it('moves linearly over [startMs, endMs], including a ramp that began before the phrase', () => {
    const w = frameWeights([{ atMs: 0, from, ramp: { to, startMs: -20, endMs: 20 } }], 5, 10);
    expect(w.names).toEqual(['happy', 'sad']);
    expect(Array.from(w.data.subarray(0, 5))).toEqual([0.5, 0.25, 0, 0, 0]);
    expect(Array.from(w.data.subarray(5))).toEqual([0.5, 0.75, 1, 1, 1]);
    expect(Object.fromEntries(mixAtFrame(w, 1))).toEqual({ happy: 0.25, sad: 0.75 });
    expect(averageMix(w, 2).get('sad')).toBeCloseTo(0.625, 12);
  });

  it('drops an emotion the ramp gives no weight inside the phrase', () => {
    const w = frameWeights([{ atMs: 0, from, ramp: { to, startMs: 1000, endMs: 2000 } }], 4, 10);
    expect(w.names).toEqual(['happy']);
  });

  it('switches at once when endMs = startMs', () => {
    const w = frameWeights([{ atMs: 0, from, ramp: { to, startMs: 15, endMs: 15 } }], 4, 10);
    expect(Array.from(w.data.subarray(4))).toEqual([0, 0, 1, 1]);
  });
});

describe('mixEmbedding', () => {
  it('weights the centroids', () => {
    expect(Array.from(mixEmbedding(new Map([['happy', 0.25], ['sad', 0.75]]), TABLE, 2))).toEqual([0.25, 0.75]);
  });
});

describe('frameEmbeddings', () => {
  it('gives every frame the embedding of its own mix, so a ramp reaches the frame decoder', () => {
    // happy → sad over frames 1…3 of 5 (10 ms frames): [dim, frames].
    const w = frameWeights([{ atMs: 0, from: new Map([['happy', 1]]), ramp: { to: new Map([['sad', 1]]), startMs: 10, endMs: 30 } }], 5, 10);
    const e = frameEmbeddings(w, TABLE, 2);
    expect(Array.from(e.subarray(0, 5))).toEqual([1, 1, 0.5, 0, 0]);
    expect(Array.from(e.subarray(5))).toEqual([0, 0, 0.5, 1, 1]);
    for (let f = 0; f < 5; f++) expect(e[f]! + e[5 + f]!).toBeCloseTo(mixEmbedding(mixAtFrame(w, f), TABLE, 2).reduce((a, b) => a + b, 0), 6);
  });
});

describe('custom emotions', () => {
  it('adds named embeddings and checks their dimension and name', () => {
    const table = emotionTable(VOICE, { mine: Float32Array.from([0.5, 0.5]) });
    expect(table.get('mine')).toEqual(Float32Array.from([0.5, 0.5]));
    expect(() => emotionTable(VOICE, { mine: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'EMBEDDING_INVALID' }));
    expect(() => emotionTable(VOICE, { happy: new Float32Array(2) })).toThrow(expect.objectContaining({ code: 'EMBEDDING_INVALID' }));
    expect(() => emotionTable(VOICE, { mine: Float32Array.from([Number.NaN, 0]) })).toThrow(expect.objectContaining({ code: 'EMBEDDING_INVALID' }));
  });
});

describe('speakers', () => {
  // Two speakers with a 1-value embedding; the second has its own happy centroid.
  const TWO = {
    ...VOICE,
    speakerDim: 1,
    speakers: [
      { id: 'a', name: 'A', embedding: Float32Array.from([7]), emotions: [] },
      { id: 'b', name: 'B', embedding: Float32Array.from([-3]), emotions: [{ name: 'happy', centroid: Float32Array.from([0.5, 0.25]) }] },
    ],
  } as unknown as VoiceManifest;

  it('conditions on [centroid ‖ speaker embedding], the speaker\'s own centroid where it has one', () => {
    const b = emotionTable(TWO, { mine: Float32Array.from([0.5, 0.5]) }, TWO.speakers[1]);
    expect(b.get('happy')).toEqual(Float32Array.from([0.5, 0.25, -3]));
    expect(b.get('sad')).toEqual(Float32Array.from([0, 1, -3]));
    expect(b.get('mine')).toEqual(Float32Array.from([0.5, 0.5, -3]));
    expect(emotionTable(TWO).get('happy')).toEqual(Float32Array.from([1, 0, 7]));
  });

  it('keeps the speaker part whole in any mix, and refuses an unknown speaker', () => {
    const r = resolveRequest(TWO, { weights: { happy: 0.3, sad: 0.7 }, intensity: 0.5, speaker: 'b', seed: 1 });
    const mixed = mixEmbedding(r.from, r.table, 3);
    expect(mixed[2]).toBeCloseTo(-3, 6);
    expect(() => resolveRequest(TWO, { weights: { happy: 1 }, speaker: 'c' })).toThrow(expect.objectContaining({ code: 'SPEAKER_UNKNOWN' }));
    expect(() => resolveRequest(TWO, { weights: { happy: 1 }, speaker: 5 as unknown as string })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
  });
});

describe('resolveRequest', () => {
  it('fills the voice defaults', () => {
    const r = resolveRequest(VOICE, { weights: { happy: 1 }, seed: 5 });
    expect(r).toMatchObject({ steps: 4, temperature: 1.5, solver: 'ode', lengthScale: 1, mode: 'score', seed: 5 });
  });

  it('takes a checked mix as it is (checked once where it entered), and checks plain weights', () => {
    const checked = checkedMix({ happy: 1 });
    const change = checkedMix({ sad: 1 });
    const r = resolveRequest(VOICE, { weights: checked, changes: [{ word: 2, to: change, rampMs: 0 }] });
    expect(r.from).toBe(checked);
    expect(r.changes[0]!.to).toBe(change);
    expect(() => resolveRequest(VOICE, { weights: { joy: 1 } })).toThrow(/unknown emotion "joy"/);
    expect(() => resolveRequest(VOICE, { weights: { happy: 1 }, changes: [{ word: 1, to: { sad: -1 }, rampMs: 0 }] })).toThrow(/changes.0.to.sad/);
  });

  it('takes each solver of the contract', () => {
    for (const solver of ['ode', 'sde', 'heun'] as const) expect(resolveRequest(VOICE, { weights: { happy: 1 }, solver }).solver).toBe(solver);
  });

  it('applies the intensity to both ends of a ramp', () => {
    const r = resolveRequest(VOICE, { weights: { happy: 1 }, intensity: 0.5, ramp: { to: { sad: 1 }, startMs: 0, endMs: 100 } });
    expect(Object.fromEntries(r.from)).toEqual({ happy: 0.5, neutral: 0.5 });
    expect(Object.fromEntries(r.ramp!.to)).toEqual({ sad: 0.5, neutral: 0.5 });
  });

  it('refuses out-of-range settings with REQUEST_INVALID', () => {
    const bad = [
      { steps: 0 }, { steps: 1001 }, { steps: 2.5 }, { temperature: 0 }, { lengthScale: -1 }, { intensity: 1.5 },
      { seed: 0.5 }, { solver: 'euler' }, { mode: 'fast' }, { ramp: { to: { sad: 1 }, startMs: 10, endMs: 0 } },
      { schedule: { primary: 'happy', secondary: 'sad', tMax: 0.2, tMin: 0.8 } },
    ];
    for (const extra of bad) {
      expect(() => resolveRequest(VOICE, { weights: { happy: 1 }, ...(extra as object) })).toThrow(expect.objectContaining({ code: 'REQUEST_INVALID' }));
    }
    expect(() => resolveRequest(VOICE, { weights: { happy: 1 }, schedule: { primary: 'x', secondary: 'sad', tMax: 1, tMin: 0 } })).toThrow(
      expect.objectContaining({ code: 'EMOTION_UNKNOWN' }),
    );
  });
});

describe('checkedMix', () => {
  it('scales to sum 1 and drops zeros, from a map or a record', () => {
    expect(Object.fromEntries(checkedMix({ happy: 3, sad: 1, angry: 0 }))).toEqual({ happy: 0.75, sad: 0.25 });
    expect(Object.fromEntries(checkedMix(new Map([['neutral', 0.2]])))).toEqual({ neutral: 1 });
    expect(checkedMix({ neutral: 1 })).toBeInstanceOf(CheckedMix);
  });
});
