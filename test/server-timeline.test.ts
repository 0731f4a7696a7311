// Emotion on the session timeline: changes take effect at the next phrase
// synthesized; ramps are linear in session time and may span phrases.
import { describe, expect, it } from 'vitest';
import { EmotionTimeline } from '../src/server/emotion-timeline.js';

describe('EmotionTimeline', () => {
  it('holds the initial mix, normalised, with no ramp', () => {
    const t = new EmotionTimeline({ happy: 1, sad: 3 });
    expect(t.forPhrase(0)).toEqual({ atStart: { happy: 0.25, sad: 0.75 }, request: { weights: { happy: 0.25, sad: 0.75 } } });
    expect(t.forPhrase(5000).atStart).toEqual({ happy: 0.25, sad: 0.75 });
  });

  it('applies a change at the next phrase, not before; the latest change wins', () => {
    const t = new EmotionTimeline({ neutral: 1 });
    t.set({ happy: 1 });
    t.set({ angry: 2 });
    expect(t.mixAt(100)).toEqual({ neutral: 1 }); // not anchored yet
    expect(t.forPhrase(100)).toEqual({ atStart: { angry: 1 }, request: { weights: { angry: 1 } } });
  });

  it('ramps from the mix at the anchor to the new one, across phrases', () => {
    const t = new EmotionTimeline({ neutral: 1 });
    t.set({ sad: 1 }, 1000);
    const first = t.forPhrase(2000);
    expect(first).toEqual({
      atStart: { neutral: 1 },
      ramp: { to: { sad: 1 }, startMs: 2000, endMs: 3000 },
      request: { weights: { neutral: 1 }, ramp: { to: { sad: 1 }, startMs: 0, endMs: 1000 } },
    });
    // A later phrase inside the ramp: the ramp started before it (negative start in phrase time).
    const second = t.forPhrase(2400);
    expect(second.atStart.neutral).toBeCloseTo(0.6, 12);
    expect(second.atStart.sad).toBeCloseTo(0.4, 12);
    expect(second.request).toEqual({ weights: { neutral: 1 }, ramp: { to: { sad: 1 }, startMs: -400, endMs: 600 } });
    // Past its end the ramp is gone.
    expect(t.forPhrase(3000)).toEqual({ atStart: { sad: 1 }, request: { weights: { sad: 1 } } });
  });

  it('a new ramp mid-ramp starts from the mix reached there', () => {
    const t = new EmotionTimeline({ neutral: 1 });
    t.set({ sad: 1 }, 1000);
    t.forPhrase(0);
    t.set({ happy: 1 }, 500);
    const mix = t.forPhrase(250);
    expect(mix.request.weights.neutral).toBeCloseTo(0.75, 12);
    expect(mix.request.weights.sad).toBeCloseTo(0.25, 12);
    expect(mix.request.ramp).toEqual({ to: { happy: 1 }, startMs: 0, endMs: 500 });
    expect(t.mixAt(750)).toEqual({ happy: 1 });
  });

  it('treats rampMs 0 as an immediate switch', () => {
    const t = new EmotionTimeline({ neutral: 1 });
    t.set({ happy: 1 }, 0);
    expect(t.forPhrase(10)).toEqual({ atStart: { happy: 1 }, request: { weights: { happy: 1 } } });
  });
});
