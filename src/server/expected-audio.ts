// Where a phrase falls on its listener's timeline before the phrases ahead of it are
// synthesized. Two phrases of a stream synthesize at once, and the second one's start is the
// end of the first, unknown until the first is done. Taken as the first one's start, the
// second's deadline came seconds too early; the pool then either served it before other
// sessions' due phrases or, with phrases ahead ranked last, let it wait until it was late
// (twelve sessions at 10 words/s on two cores: calls overdue by 2 s queued behind calls due in 3).

/**
 * Milliseconds of audio per character of text before a stream has any audio to measure:
 * below what the voices speak at normal speed (60–70 ms on slt-emo), so that a first guess
 * errs towards an earlier deadline.
 */
export const FIRST_GUESS_MS_PER_CHARACTER = 50;

/** A phrase being synthesized, counted in the expected audio until it is placed or given up. */
export interface ExpectedPhrase {
  /** Audio expected before this phrase from the phrases still being synthesized ahead of it, in ms. */
  readonly afterMs: number;
  /** Its audio is placed: `ms` long. Teaches the speaking rate and ends its share of the expectation. */
  placed(ms: number): void;
  /** It ended without audio placed (failed, cancelled); a no-op once placed. */
  release(): void;
}

interface Pending {
  expectedMs: number;
}

export class ExpectedAudio {
  /** Phrases being synthesized and not yet placed, in the order they began. */
  private pending: Pending[] = [];
  private placedCharacters = 0;
  private placedMs = 0;

  /** The speaking rate so far: ms of audio per character of the text placed. */
  get msPerCharacter(): number {
    return this.placedCharacters > 0 ? this.placedMs / this.placedCharacters : FIRST_GUESS_MS_PER_CHARACTER;
  }

  /** A phrase of `characters` starts synthesizing, after every phrase begun before it. */
  begin(characters: number): ExpectedPhrase {
    const entry: Pending = { expectedMs: characters * this.msPerCharacter };
    this.pending.push(entry);
    /** Whether it was still pending. */
    const release = (): boolean => {
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
      return i >= 0;
    };
    const pending = this.pending;
    return {
      // Asked when the phrase's request is made: the phrases placed by then count in the
      // audio placed, no longer here.
      get afterMs() {
        let ms = 0;
        for (const p of pending) {
          if (p === entry) return ms;
          ms += p.expectedMs;
        }
        return ms;
      },
      placed: (ms) => {
        // A phrase with nothing to pronounce says nothing about the rate.
        if (release() && ms > 0) {
          this.placedCharacters += characters;
          this.placedMs += ms;
        }
      },
      release: () => void release(),
    };
  }
}
