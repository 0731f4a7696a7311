// Emotion on the session timeline: each phrase starts where the previous one's course
// left the mix (a ramp may span phrases); the phrase message reports each word's mix.
import { describe, expect, it } from 'vitest';
import { describePhraseEmotion, EmotionTimeline, changeForTag, toWeights } from '../src/server/emotion-timeline.js';
import { checkedMix, emotionCourse } from '../src/pipeline/synthesis/index.js';

const toMix = checkedMix;
const start = (t: EmotionTimeline, ms: number) => {
  const s = t.forPhrase(ms);
  return { weights: toWeights(s.weights), ...(s.ramp ? { ramp: { ...s.ramp, to: toWeights(s.ramp.to) } } : {}) };
};

const change = (weights: Record<string, number>, rampMs = 0, word = 0) => ({ word, to: toMix(weights), rampMs });

describe('EmotionTimeline', () => {
  it('holds the initial mix with no ramp', () => {
    const t = new EmotionTimeline(checkedMix({ happy: 1, sad: 3 }));
    expect(start(t, 0)).toEqual({ weights: { happy: 0.25, sad: 0.75 } });
    expect(start(t, 5000)).toEqual({ weights: { happy: 0.25, sad: 0.75 } });
  });

  it('carries a ramp begun in one phrase into the next, in that phrase time', () => {
    const t = new EmotionTimeline(checkedMix({ neutral: 1 }));
    // A phrase at 2000 ms whose word 0 ramps to sad over 1000 ms.
    const first = t.forPhrase(2000);
    const course = emotionCourse({ from: first.weights }, [change({ sad: 1 }, 1000)], [0], 60);
    t.advance(2000, course);
    const second = start(t, 2400);
    expect(second).toEqual({ weights: { neutral: 1 }, ramp: { to: { sad: 1 }, startMs: -400, endMs: 600 } });
    expect(t.mixAt(2400).sad).toBeCloseTo(0.4, 12);
    expect(start(t, 3000)).toEqual({ weights: { sad: 1 } });
  });

  it('a change inside a phrase takes over at its anchor, with the transition as its shortest ramp', () => {
    const t = new EmotionTimeline(checkedMix({ happy: 1 }));
    const course = emotionCourse({ from: t.forPhrase(0).weights }, [change({ sad: 1 }, 0, 3)], [500], 60);
    t.advance(1000, course);
    expect(t.mixAt(1500)).toEqual({ happy: 1 });
    expect(t.mixAt(1530).sad).toBeCloseTo(0.5, 12);
    expect(t.mixAt(1560)).toEqual({ sad: 1 });
  });
});

describe('describePhraseEmotion', () => {
  it('reports the phrase start, one segment per mix with its first word, and each word’s mix at its middle', () => {
    const course = emotionCourse({ from: toMix({ happy: 1 }) }, [change({ sad: 1 }, 0, 2)], [300], 60);
    const words = [
      { word: 'so', startMs: 0, endMs: 100 },
      { word: 'glad', startMs: 100, endMs: 300 },
      { word: 'but', startMs: 320, endMs: 400 },
    ];
    const report = describePhraseEmotion(course, [2], 1000, words);
    expect(report.emotion).toEqual({ happy: 1 });
    expect(report.ramp).toBeUndefined();
    expect(report.segments).toEqual([
      { word: 0, startMs: 1000, emotion: { happy: 1 } },
      { word: 2, startMs: 1300, emotion: { happy: 1 }, ramp: { to: { sad: 1 }, startMs: 1300, endMs: 1360 } },
    ]);
    expect(report.wordMixes).toEqual([{ happy: 1 }, { happy: 1 }, { sad: 1 }]);
  });

  it('a change at word 0 replaces the phrase’s starting mix', () => {
    const course = emotionCourse({ from: toMix({ happy: 1 }) }, [change({ angry: 1 })], [0], 60);
    const report = describePhraseEmotion(course, [0], 0, [{ word: 'no', startMs: 0, endMs: 100 }]);
    expect(report.emotion).toEqual({ angry: 1 });
    expect(report.segments).toEqual([{ word: 0, startMs: 0, emotion: { angry: 1 } }]);
  });
});

describe('changeForTag', () => {
  const voice = { neutral: 'neutral', known: ['neutral', 'happy', 'sad'], base: checkedMix({ neutral: 1 }) };
  const plain = (c: ReturnType<typeof changeForTag>) => (typeof c === 'string' ? c : { weights: toWeights(c.mix), rampMs: c.rampMs });
  it('normalises the mix and applies the intensity toward neutral', () => {
    expect(plain(changeForTag({ kind: 'set', weights: { happy: 3, sad: 1 }, intensity: 0.5, rampMs: 200 }, voice))).toEqual({
      weights: { happy: 0.375, sad: 0.125, neutral: 0.5 },
      rampMs: 200,
    });
  });
  it('returns to the base mix, and names an unknown emotion', () => {
    expect(plain(changeForTag({ kind: 'base', rampMs: 0 }, voice))).toEqual({ weights: { neutral: 1 }, rampMs: 0 });
    expect(changeForTag({ kind: 'set', weights: { joy: 1 }, intensity: 1, rampMs: 0 }, voice)).toMatch(/unknown emotion "joy"/);
  });
});
