// Placing emotion changes inside a phrase: anchors at word ends, encoder rows per
// distinct mix (ramps in bounded steps, rows capped) with each phoneme's own row
// picked, and the per-frame course.
import { describe, expect, it } from 'vitest';
import { courseMixAt, type Mix } from '../src/pipeline/synthesis/emotion-mix.js';
import { anchorPhonemes, emotionCourse, encoderRows, joinRows, MAX_ENCODER_ROWS, missingRows, pickRows, RAMP_LEVELS, rampMixes, stepMixes } from '../src/pipeline/synthesis/phrase-emotion.js';
import { wordsBefore } from '../src/pipeline/frontend/index.js';

const mix = (o: Record<string, number>): Mix => new Map(Object.entries(o));
const HAPPY = mix({ happy: 1 });
const SAD = mix({ sad: 1 });
const change = (word: number, to: Mix, rampMs = 0) => ({ word, to, rampMs });
// "so glad, but" : phonemes s ow | g l ae d | , | b ah t
const WORDS = [
  { word: 'so', start: 0, end: 2 },
  { word: 'glad', start: 2, end: 6 },
  { word: 'but', start: 7, end: 10 },
];

describe('anchorPhonemes', () => {
  it('anchors a change where the word before ends, so the pause goes with the new mix', () => {
    expect(anchorPhonemes([change(0, SAD), change(2, SAD), change(5, SAD)], WORDS, 10)).toEqual([0, 6, 10]);
  });
});

describe('stepMixes and encoderRows', () => {
  const rowsOf = (first: Mix, changes: ReturnType<typeof change>[], anchors: number[], phonemes: number) => encoderRows(stepMixes(first, changes, anchors, phonemes));

  it('gives one row per distinct mix and each phoneme its row; before durations are known a ramp keeps the mix before it', () => {
    const { rows, phonemeRows } = rowsOf(HAPPY, [change(2, SAD)], [6], 10);
    expect(rows).toEqual([HAPPY, SAD]);
    expect([...phonemeRows]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const ramped = rowsOf(HAPPY, [change(2, SAD, 500)], [6], 10);
    expect(ramped.rows).toEqual([HAPPY]);
    expect([...ramped.phonemeRows]).toEqual(new Array(10).fill(0));
  });

  it('reuses a row for a mix that comes back, and spends none on a change at the start', () => {
    const { rows, phonemeRows } = rowsOf(HAPPY, [change(0, SAD), change(1, HAPPY), change(2, mix({ sad: 1 }))], [0, 2, 6], 10);
    expect(rows).toEqual([SAD, HAPPY]);
    expect([...phonemeRows]).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});

describe('rampMixes', () => {
  // 40 phonemes of 10 ms each (middles at 5, 15, … ms); the change anchors at phoneme 10 (100 ms).
  const PHONEMES = 40;
  const middles = Float64Array.from({ length: PHONEMES }, (_, p) => 10 * p + 5);
  const mixesFor = (changes: ReturnType<typeof change>[], anchors: number[], first: Parameters<typeof emotionCourse>[0] = { from: HAPPY }) =>
    rampMixes(emotionCourse(first, changes, anchors.map((p) => 10 * p), 0), anchors, middles);
  const sadOf = (m: { mix: Mix }) => m.mix.get('sad') ?? 0;

  it('keeps the earlier mix exactly before the anchor word, then follows the ramp in steps up to the new mix exactly', () => {
    const mixes = mixesFor([change(2, SAD, 200)], [10]); // the ramp ends at 300 ms, inside phoneme 30
    for (const m of mixes.slice(0, 10)) expect(m).toEqual({ mix: HAPPY, intermediate: false });
    for (const m of mixes.slice(30)) expect(m).toEqual({ mix: SAD, intermediate: false });
    const ramp = mixes.slice(10, 30);
    for (let k = 1; k < ramp.length; k++) expect(sadOf(ramp[k]!)).toBeGreaterThanOrEqual(sadOf(ramp[k - 1]!));
    // The steps are the RAMP_LEVELS evenly spaced mixes between the ends, each weighing 1 in all.
    const steps = [...new Set(ramp.filter((m) => m.intermediate).map(sadOf))];
    expect(steps.length).toBe(RAMP_LEVELS);
    steps.forEach((w, k) => expect(w).toBeCloseTo((k + 1) / (RAMP_LEVELS + 1), 12));
    for (const m of ramp) expect((m.mix.get('happy') ?? 0) + sadOf(m)).toBeCloseTo(1, 12);
    // Each phoneme takes the step nearest the ramp's value at its middle.
    ramp.forEach((m, k) => expect(Math.abs(sadOf(m) - Math.min(1, (middles[10 + k]! - 100) / 200))).toBeLessThanOrEqual(0.5 / (RAMP_LEVELS + 1) + 1e-12));
  });

  it('switches at once without a ramp, and lets a later change start from where a ramp has got to', () => {
    const switched = mixesFor([change(2, SAD)], [10]);
    expect(switched.map((m) => m.mix)).toEqual([...new Array(10).fill(HAPPY), ...new Array(30).fill(SAD)]);
    const ANGRY = mix({ angry: 1 });
    // The first ramp has got a fifth of the way (200 of 1000 ms) when the second starts.
    const mixes = mixesFor([change(2, SAD, 1000), change(3, ANGRY, 100)], [10, 30]);
    expect(mixes[29]!.intermediate).toBe(true);
    expect(sadOf(mixes[29]!)).toBeCloseTo(0.2, 12);
    expect(mixes[30]!.intermediate).toBe(false);
    expect(sadOf(mixes[30]!)).toBeCloseTo(0.2, 12);
    expect(mixes[30]!.mix.get('happy')).toBeCloseTo(0.8, 12);
    for (let p = 31; p < PHONEMES; p++) expect(mixes[p]!.mix.get('angry') ?? 0).toBeGreaterThanOrEqual(mixes[p - 1]!.mix.get('angry') ?? 0);
    expect(mixes[39]!.mix).toBe(ANGRY);
  });

  it('follows a ramp begun in an earlier phrase from the phrase’s first phoneme', () => {
    const mixes = mixesFor([], [], { from: HAPPY, ramp: { to: SAD, startMs: -400, endMs: 400 } });
    expect(sadOf(mixes[0]!)).toBeCloseTo(0.6, 12);
    for (let p = 1; p < PHONEMES; p++) expect(sadOf(mixes[p]!)).toBeGreaterThanOrEqual(sadOf(mixes[p - 1]!));
    for (const m of mixes.slice(36)) expect(m.mix).toBe(SAD);
  });
});

describe('encoderRows under many ramps', () => {
  // 30 words of 8 phonemes (10 ms each), a ramp of 60 ms to a different emotion at every word.
  const NAMES = ['happy', 'sad', 'angry', 'surprise', 'neutral'];
  const anchors = Array.from({ length: 30 }, (_, w) => 8 * w);
  const changes = anchors.map((_, w) => change(w, mix({ [NAMES[w % NAMES.length]!]: 1 }), 60));
  const middles = Float64Array.from({ length: 240 }, (_, p) => 10 * p + 5);
  const mixes = rampMixes(emotionCourse({ from: HAPPY }, changes, anchors.map((p) => 10 * p), 0), anchors, middles);

  it('stays within MAX_ENCODER_ROWS, keeping the ramps’ ends and giving every other phoneme its nearest row', () => {
    const uncapped = encoderRows(mixes, Infinity);
    expect(uncapped.rows.length).toBeGreaterThan(MAX_ENCODER_ROWS);
    const { rows, phonemeRows } = encoderRows(mixes);
    expect(rows.length).toBe(MAX_ENCODER_ROWS);
    expect(phonemeRows.length).toBe(240);
    // Every phoneme on a ramp's end keeps that mix exactly.
    mixes.forEach((m, p) => {
      if (!m.intermediate) expect(rows[phonemeRows[p]!]).toEqual(m.mix);
    });
    const l1 = (a: Mix, b: Mix) => [...new Set([...a.keys(), ...b.keys()])].reduce((s, n) => s + Math.abs((a.get(n) ?? 0) - (b.get(n) ?? 0)), 0);
    mixes.forEach((m, p) => {
      const best = Math.min(...rows.map((row) => l1(row, m.mix)));
      expect(l1(rows[phonemeRows[p]!]!, m.mix)).toBeCloseTo(best, 12);
    });
  });

  it('keeps the ends first when even they exceed the cap', () => {
    const { rows, phonemeRows } = encoderRows(mixes, 3);
    expect(rows).toEqual([HAPPY, SAD, mix({ angry: 1 })]);
    expect(Math.max(...phonemeRows)).toBe(2);
  });
});

describe('missingRows and joinRows', () => {
  it('encodes only the rows a first call lacked, and finds each wanted row in the joined output', () => {
    const STEP = mix({ happy: 0.5, sad: 0.5 });
    const { missing, at } = missingRows([HAPPY], [HAPPY, STEP, SAD]);
    expect(missing).toEqual([STEP, SAD]);
    expect([...at]).toEqual([0, 1, 2]);
    // 1 + 2 rows of 1 channel, 2 phonemes.
    const joined = joinRows({ mu: Float32Array.of(1, 2), logDurations: Float32Array.of(3, 4) }, { mu: Float32Array.of(5, 6, 7, 8), logDurations: Float32Array.of(9, 10, 11, 12) });
    expect([...joined.mu]).toEqual([1, 2, 5, 6, 7, 8]);
    expect([...joined.logDurations]).toEqual([3, 4, 9, 10, 11, 12]);
  });
});

describe('pickRows', () => {
  it('takes each phoneme’s μ and log-duration from its own row', () => {
    // 2 rows, 2 channels, 3 phonemes: value = 100·row + 10·channel + phoneme.
    const mu = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * Math.floor((i % 6) / 3) + (i % 3));
    const logD = Float32Array.from({ length: 6 }, (_, i) => 100 * Math.floor(i / 3) + (i % 3));
    const picked = pickRows(mu, logD, 2, Int32Array.from([0, 1, 1]));
    expect([...picked.mu]).toEqual([0, 101, 102, 10, 111, 112]);
    expect([...picked.logDurations]).toEqual([0, 101, 102]);
  });
});

describe('emotionCourse', () => {
  it('switches inside the phrase over the transition, or the ramp when longer; at 0 with no transition', () => {
    const course = emotionCourse({ from: HAPPY }, [change(2, SAD)], [300], 100);
    expect(courseMixAt(course, 300)).toEqual(HAPPY);
    expect(courseMixAt(course, 350).get('sad')).toBeCloseTo(0.5, 12);
    expect(courseMixAt(course, 400)).toEqual(SAD);
    const ramp = emotionCourse({ from: HAPPY }, [change(2, SAD, 1000)], [300], 100);
    expect(courseMixAt(ramp, 800).get('sad')).toBeCloseTo(0.5, 12);
    const atStart = emotionCourse({ from: HAPPY }, [change(0, SAD)], [0], 100);
    expect(courseMixAt(atStart, 0)).toEqual(SAD);
  });

  it('starts a change from wherever an earlier ramp has got to', () => {
    const course = emotionCourse({ from: HAPPY, ramp: { to: SAD, startMs: 0, endMs: 1000 } }, [change(3, mix({ angry: 1 }), 1000)], [500], 100);
    expect(course[1]!.from.get('happy')).toBeCloseTo(0.5, 12);
    expect(courseMixAt(course, 1000).get('angry')).toBeCloseTo(0.5, 12);
  });
});

describe('wordsBefore', () => {
  it('counts the spoken words before a position; inside a word, that word counts as before', () => {
    const text = 'I am so glad you came, but $3 is all.';
    expect(wordsBefore(text, 0)).toBe(0);
    expect(wordsBefore(text, text.indexOf('but'))).toBe(6);
    expect(wordsBefore(text, text.indexOf('lad'))).toBe(4);
    expect(wordsBefore(text, text.indexOf(' is'))).toBe(9); // "$3" is "three dollars"
    expect(wordsBefore(text, text.length)).toBe(11);
  });
});
