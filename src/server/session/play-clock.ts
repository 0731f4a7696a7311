// Where a session's listener is in its audio, as far as the server can tell: the
// session timeline (48 kHz samples) of what has been sent and of what has been
// synthesized, and when the listener's play head was at its start.
import { samplesToMs } from '../render.js';

/**
 * How long, under load, a listener who hears nothing yet (a new session, a new turn after the
 * last one played out) waits for phrases due sooner to listeners who are hearing audio: from
 * `npm run bench`'s concurrency trials (docs/benchmarks.md, "First audio gives way").
 */
export const DEFAULT_FIRST_AUDIO_GRACE_MS = 500;

export class PlayClock {
  /** End of the audio sent so far. */
  private sent = 0;
  /** Where the next phrase synthesized will start (ahead of `sent` while phrases wait). */
  private rendered = 0;
  /**
   * When the listener's play head was at timeline 0: set by the first audio and moved on
   * whenever audio goes out after its play time (the listener ran dry and waited).
   */
  private playStart: number | undefined;
  /** Nothing has gone out since the session or its turn began with the listener's audio played out. */
  private unheard = true;

  /**
   * `firstAudioGraceMs`: how much later than at once a silent listener's audio is due. An idle
   * server serves it at once all the same; a loaded one first serves the listeners whose
   * audio would otherwise break off, and a new one's start, not a gap, is what waits.
   */
  constructor(private readonly firstAudioGraceMs: number) {}

  /** Whether the listener hears nothing yet: no audio has gone out since the session or its turn began with nothing left to play. */
  get silent(): boolean {
    return this.unheard;
  }

  /** Where the next phrase synthesized starts. */
  get renderCursor(): number {
    return this.rendered;
  }

  /** A phrase synthesized: the next one starts at `end`. */
  renderedTo(end: number): void {
    this.rendered = end;
  }

  /** What was synthesized and not sent is dropped (cancel): the next phrase starts where the audio sent ends. */
  dropUnsent(): void {
    this.rendered = this.sent;
  }

  /** A turn begins: a listener who has heard everything sent is silent again, as a new one is. */
  turnStarted(): void {
    if (this.playStart === undefined || this.playStart + samplesToMs(this.sent) <= performance.now()) this.unheard = true;
  }

  /** `samples` more audio went out now. */
  sentNow(samples: number): void {
    const now = performance.now();
    const sentMs = samplesToMs(this.sent);
    if (this.playStart === undefined || now > this.playStart + sentMs) this.playStart = now - sentMs;
    this.sent += samples;
    this.unheard = false;
  }

  /**
   * When the listener will reach the point `afterMs` past the audio synthesized so far: for a
   * silent listener, as if it started playing the audio not yet sent `firstAudioGraceMs` from
   * now; now for a listener already waiting.
   */
  deadlineAfter(afterMs: number): number {
    const now = performance.now();
    if (this.unheard) return now + this.firstAudioGraceMs + samplesToMs(this.rendered - this.sent) + afterMs;
    return Math.max(now, this.playStart! + samplesToMs(this.rendered) + afterMs);
  }

  /** Audio synthesized ahead of the listener, in ms; undefined before any audio was sent. */
  aheadMs(): number | undefined {
    if (this.playStart === undefined) return undefined;
    return this.playStart + samplesToMs(this.rendered) - performance.now();
  }
}
