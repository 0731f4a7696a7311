// Where a session's listener is in its audio, as far as the server can tell: the
// session timeline (48 kHz samples) of what has been sent and of what has been
// synthesized, and when the listener's play head was at its start.
import { samplesToMs } from '../render.js';

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

  /** `samples` more audio went out now. */
  sentNow(samples: number): void {
    const now = performance.now();
    const sentMs = samplesToMs(this.sent);
    if (this.playStart === undefined || now > this.playStart + sentMs) this.playStart = now - sentMs;
    this.sent += samples;
  }

  /**
   * When the listener will reach the point `afterMs` past the audio synthesized so far (before
   * any audio went out, as if it started playing now); now for a listener already waiting.
   */
  deadlineAfter(afterMs: number): number {
    const now = performance.now();
    return Math.max(now, (this.playStart ?? now) + samplesToMs(this.rendered) + afterMs);
  }

  /** Audio synthesized ahead of the listener, in ms; undefined before any audio was sent. */
  aheadMs(): number | undefined {
    if (this.playStart === undefined) return undefined;
    return this.playStart + samplesToMs(this.rendered) - performance.now();
  }
}
