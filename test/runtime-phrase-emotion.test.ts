// Placing emotion changes inside a phrase: anchors at word ends, encoder rows per
// distinct mix with each phoneme's own row picked, and the per-frame course.
import { describe, expect, it } from 'vitest';
import { courseMixAt, type Mix } from '../src/pipeline/synthesis/emotion-mix.js';
import { anchorPhonemes, emotionCourse, encoderRows, pickRows } from '../src/pipeline/synthesis/phrase-emotion.js';
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

describe('encoderRows', () => {
  it('gives one row per distinct mix and each phoneme its row; a ramp keeps the mix before it', () => {
    const { rows, phonemeRows } = encoderRows(HAPPY, [change(2, SAD)], [6], 10);
    expect(rows).toEqual([HAPPY, SAD]);
    expect([...phonemeRows]).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const ramped = encoderRows(HAPPY, [change(2, SAD, 500)], [6], 10);
    expect(ramped.rows).toEqual([HAPPY]);
    expect([...ramped.phonemeRows]).toEqual(new Array(10).fill(0));
  });

  it('reuses a row for a mix that comes back, and spends none on a change at the start', () => {
    const { rows, phonemeRows } = encoderRows(HAPPY, [change(0, SAD), change(1, HAPPY), change(2, mix({ sad: 1 }))], [0, 2, 6], 10);
    expect(rows).toEqual([SAD, HAPPY]);
    expect([...phonemeRows]).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
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
