// Phrases synthesized in parallel and placed one after another on a timeline. Where a
// phrase starts is known only once the phrases before it are synthesized, but the
// emotion it starts with usually is not: when none of those changes the emotion and no
// ramp runs on, it is the mix in force now, and its synthesis starts at once. Otherwise
// the course of the phrases before it (which follows their word times) decides it, and
// it waits for them.
import type { PhraseStart, EmotionTimeline } from './emotion-timeline.js';
import type { TextMark } from './phrase-cutter.js';

/** Phrases of one stream or text synthesized at once, at most: one per inference worker of a 2-core machine. */
export const PHRASES_IN_PARALLEL = 2;

export interface PhraseTurn {
  /** The emotion the phrase starts with, as soon as it is known; `fromMs`: the timeline's end as it stands when asked. */
  start(fromMs: () => number): Promise<PhraseStart>;
  /** Resolves when every phrase before it is placed: the timeline's end is then where this one starts. */
  readonly placeable: Promise<void>;
  /** This phrase is placed (or will never be): the next may be. Call it exactly once, aborted or not. */
  placed(): void;
}

export class PhraseOrder {
  private last: Promise<void> = Promise.resolve();
  /** Phrases handed out, not yet placed, that change the emotion. */
  private changing = 0;

  constructor(private readonly timeline: EmotionTimeline) {}

  /** The next phrase's turn; ask in the order of the phrases. */
  next(marks: readonly TextMark<unknown>[]): PhraseTurn {
    const placeable = this.last;
    const waits = this.changing > 0;
    let release!: () => void;
    this.last = new Promise((resolve) => (release = resolve));
    const changes = marks.length > 0;
    if (changes) this.changing++;
    let done = false;
    return {
      start: async (fromMs) => {
        if (waits || !this.timeline.steadyFrom(fromMs())) await placeable;
        return this.timeline.forPhrase(fromMs());
      },
      placeable,
      placed: () => {
        if (done) return;
        done = true;
        if (changes) this.changing--;
        release();
      },
    };
  }
}
