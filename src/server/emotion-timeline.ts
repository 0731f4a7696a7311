// A session's emotion mix as a function of its audio timeline. An `emotion`
// message takes effect at the start of the next phrase synthesized; with a
// ramp, the mix moves linearly from whatever it was there to the new weights
// over rampMs of audio, possibly across several phrases. Pure and synchronous.
import { normalizeWeights, type EmotionWeights, type PhraseRamp } from './protocol.js';

/** What one phrase starting at `startMs` on the session timeline is synthesized with. */
export interface PhraseMix {
  /** The mix at the phrase's first frame (normalised), as reported to the client. */
  atStart: EmotionWeights;
  /** The ramp overlapping this phrase, in session time; absent when the mix is constant. */
  ramp?: PhraseRamp;
  /** The runtime's request fields: base weights and a ramp in phrase time (it may start before 0). */
  request: { weights: EmotionWeights; ramp?: PhraseRamp };
}

function lerp(a: EmotionWeights, b: EmotionWeights, t: number): EmotionWeights {
  const out: EmotionWeights = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const w = (a[name] ?? 0) * (1 - t) + (b[name] ?? 0) * t;
    if (w > 0) out[name] = w;
  }
  return out;
}

export class EmotionTimeline {
  private from: EmotionWeights;
  private to: EmotionWeights;
  private startMs = 0;
  private endMs = 0;
  private pending: { weights: EmotionWeights; rampMs: number } | undefined;

  constructor(initial: EmotionWeights) {
    this.from = this.to = normalizeWeights(initial);
  }

  /** Queues a change for the next phrase whose synthesis starts. A later call before then replaces it. */
  set(weights: EmotionWeights, rampMs = 0): void {
    this.pending = { weights: normalizeWeights(weights), rampMs };
  }

  /** The mix at a point of the timeline (ignoring a change not yet anchored to a phrase). */
  mixAt(ms: number): EmotionWeights {
    if (ms >= this.endMs) return this.to;
    if (ms <= this.startMs) return this.from;
    return lerp(this.from, this.to, (ms - this.startMs) / (this.endMs - this.startMs));
  }

  /** Anchors a queued change at `startMs` and returns the mix of the phrase starting there. */
  forPhrase(startMs: number): PhraseMix {
    if (this.pending) {
      this.from = this.mixAt(startMs);
      this.to = this.pending.weights;
      this.startMs = startMs;
      this.endMs = startMs + this.pending.rampMs;
      this.pending = undefined;
    }
    const atStart = this.mixAt(startMs);
    if (startMs >= this.endMs) return { atStart, request: { weights: atStart } };
    const ramp = { to: this.to, startMs: this.startMs, endMs: this.endMs };
    return {
      atStart,
      ramp,
      request: { weights: this.from, ramp: { to: this.to, startMs: this.startMs - startMs, endMs: this.endMs - startMs } },
    };
  }
}
