// A change of emotion between two words of one phrase, on the default voice
// (models/slt-emo) with a fixed seed: the words before it keep their encoder row,
// their durations, their per-frame weights and (within a stated tolerance) their
// sound; after it the voice is as sad as speaking sad throughout. Mean F0 comes from
// the recipe's YIN tracker (models/recipe/emomix/pitch.py), run by Debian's python3.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameWeights } from '../src/pipeline/synthesis/emotion-mix.js';
import { DEFAULT_TRANSITION_MS, Engine, type SynthesisResult } from '../src/pipeline/synthesis/index.js';

const TEXT = 'I am so glad you came but I have some terrible news about your brother.';
const WORD = 6; // "but"
const SEED = 3;

let engine: Engine;
let happy: SynthesisResult;
let sad: SynthesisResult;
let mixed: SynthesisResult;
const dir = mkdtempSync(join(tmpdir(), 'emomix-anchor-'));

beforeAll(async () => {
  engine = await Engine.create({ voiceDir: 'models/slt-emo', workers: 1, intraOpThreads: 1, cacheEntries: 0 });
  happy = await engine.synthesize(TEXT, { weights: { happy: 1 }, seed: SEED });
  sad = await engine.synthesize(TEXT, { weights: { sad: 1 }, seed: SEED });
  mixed = await engine.synthesize(TEXT, { weights: { happy: 1 }, changes: [{ word: WORD, to: { sad: 1 }, rampMs: 0 }], seed: SEED });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const frameMs = () => (engine.voice.mel.hopLength / engine.voice.audio.sampleRate) * 1000;
const framesOf = (r: SynthesisResult) => r.mel.length / engine.voice.mel.nMels;

/** Mean F0 (Hz) of each [fromMs, toMs) stretch of a rendering, by the recipe's YIN. */
function meanF0(parts: [SynthesisResult, number, number][]): number[] {
  const rate = engine.voice.audio.sampleRate;
  const files = parts.map(([r, from, to], k) => {
    const wave = r.audio.slice(Math.round((from / 1000) * rate), Math.round((to / 1000) * rate));
    const file = join(dir, `${k}.f32`);
    writeFileSync(file, Buffer.from(wave.buffer));
    return file;
  });
  const script = 'import sys, numpy as np\nsys.path.insert(0, "models/recipe")\nfrom emomix.pitch import mean_f0\nfor f in sys.argv[2:]: print(mean_f0(np.fromfile(f, dtype=np.float32), int(sys.argv[1])))';
  return execFileSync('/usr/bin/python3', ['-c', script, String(rate), ...files]).toString().trim().split('\n').map(Number);
}

describe('an emotion change inside a phrase (default voice, seed 3)', () => {
  it('conditions each phoneme on its own encoder row: happy up to the word, sad from it', () => {
    const { rows, phonemeRows } = mixed.emotion;
    expect(rows.map((r) => Object.fromEntries(r))).toEqual([{ happy: 1 }, { sad: 1 }]);
    const anchor = [...phonemeRows].indexOf(1);
    expect(anchor).toBeGreaterThan(0);
    expect([...phonemeRows.subarray(0, anchor)].every((r) => r === 0)).toBe(true);
    expect([...phonemeRows.subarray(anchor)].every((r) => r === 1)).toBe(true);
    // The earlier phonemes' durations are the all-happy rendering's, to the frame.
    expect([...mixed.durations.subarray(0, anchor)]).toEqual([...happy.durations.subarray(0, anchor)]);
    expect(mixed.words.slice(0, WORD)).toEqual(happy.words.slice(0, WORD));
  });

  it('gives the frame decoder and the estimator happy weights up to the switch and sad ones after the transition', () => {
    const { course, anchorsMs } = mixed.emotion;
    expect(anchorsMs[0]).toBe(mixed.words[WORD - 1]!.endMs);
    const frames = framesOf(mixed);
    const weights = frameWeights(course, frames, frameMs());
    const row = (name: string) => weights.data.subarray(weights.names.indexOf(name) * frames, (weights.names.indexOf(name) + 1) * frames);
    const at = Math.round(anchorsMs[0]! / frameMs());
    const settled = Math.ceil((anchorsMs[0]! + DEFAULT_TRANSITION_MS) / frameMs());
    expect([...row('happy').subarray(0, at + 1)].every((w) => w === 1)).toBe(true);
    expect([...row('sad').subarray(settled)].every((w) => w === 1)).toBe(true);
    // In between the weights move linearly and always sum 1.
    for (let f = at; f < settled; f++) expect(row('happy')[f]! + row('sad')[f]!).toBeCloseTo(1, 12);
  });

  it('keeps the mel of the earlier words close to the all-happy rendering', () => {
    const at = Math.round(mixed.emotion.anchorsMs[0]! / frameMs());
    // The frame decoder and estimator see a few frames past the switch, and a longer
    // phrase lays its noise out differently ([80, T], row-major), so the earlier frames
    // are close, not equal: tolerance 30 % of how far the all-sad rendering is from the
    // all-happy one over the same frames (measured: 0.46 against 2.29 nats).
    const n = at - 4;
    const distance = (a: SynthesisResult, b: SynthesisResult) => {
      let sum = 0;
      for (let c = 0; c < 80; c++) for (let f = 0; f < n; f++) sum += Math.abs(a.mel[c * framesOf(a) + f]! - b.mel[c * framesOf(b) + f]!);
      return sum / (80 * n);
    };
    expect(distance(mixed, happy)).toBeLessThan(0.3 * distance(sad, happy));
  });

  it('has the mean F0 of all-happy speech before the switch and of all-sad speech after it', () => {
    const before = (r: SynthesisResult): [SynthesisResult, number, number] => [r, 0, r.words[WORD - 1]!.endMs];
    const after = (r: SynthesisResult): [SynthesisResult, number, number] => [r, r.words[WORD]!.startMs, r.words.at(-1)!.endMs];
    const [mixedBefore, happyBefore, sadBefore, mixedAfter, happyAfter, sadAfter] = meanF0([before(mixed), before(happy), before(sad), after(mixed), after(happy), after(sad)]);
    // Measured at seed 3: before 205.7 Hz (all-happy 208.6, all-sad 160.5); after 145.4 Hz
    // (all-sad 146.1, all-happy 184.7). Tolerance: a fifth of the happy–sad gap.
    expect(Math.abs(mixedBefore! - happyBefore!)).toBeLessThan(0.2 * Math.abs(happyBefore! - sadBefore!));
    expect(Math.abs(mixedAfter! - sadAfter!)).toBeLessThan(0.2 * Math.abs(happyAfter! - sadAfter!));
  });
});
