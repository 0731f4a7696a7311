// What a session counts: its `done` stats and the server's metrics, phrase by
// phrase (spoken, failed, cancelled), packet by packet, and the latency of each
// turn's first audio.
import type { SessionStats } from '../../protocol/index.js';
import { countSpoken, type ServerMetrics } from '../metrics.js';
import { phraseMs, type PhraseAudio } from '../render.js';

export class SessionCounters {
  private readonly counts: SessionStats = {
    phrases: 0,
    failedPhrases: 0,
    cancelledPhrases: 0,
    audioMs: 0,
    packets: 0,
    synthesisMs: 0,
    realTimeFactor: 0,
    firstAudioMs: null,
  };
  /** Phrases synthesized (whether delivered yet or not). */
  rendered = 0;
  private turnStartedAt: number | undefined;

  constructor(
    private readonly metrics: ServerMetrics,
    /** The voice the metrics are labelled with, once the session has one. */
    private readonly voice: () => string,
  ) {}

  get stats(): SessionStats {
    return { ...this.counts };
  }

  /** Phrases delivered, spoken or failed. */
  get delivered(): number {
    return this.counts.phrases + this.counts.failedPhrases;
  }

  /** Phrases accounted for: delivered or cancelled. */
  get settled(): number {
    return this.delivered + this.counts.cancelledPhrases;
  }

  spoken(audio: PhraseAudio): void {
    const audioMs = phraseMs(audio);
    const c = this.counts;
    c.phrases++;
    c.audioMs += audioMs;
    c.synthesisMs += audio.synthesisMs;
    c.realTimeFactor = c.audioMs > 0 ? c.synthesisMs / c.audioMs : 0;
    countSpoken(this.metrics, this.voice(), { phrases: 1, audioMs, synthesisMs: audio.synthesisMs });
  }

  failed(): void {
    this.counts.failedPhrases++;
    this.metrics.phrases.inc({ voice: this.voice(), outcome: 'failed' });
  }

  cancelled(phrases: number): void {
    this.counts.cancelledPhrases += phrases;
    if (phrases > 0) this.metrics.phrases.inc({ voice: this.voice(), outcome: 'cancelled' }, phrases);
  }

  /** Text arrived for a run with nothing to say: the first audio's latency is measured from now. */
  turnStarted(): void {
    this.turnStartedAt ??= performance.now();
  }

  /** The turn was cancelled: no first audio to wait for. */
  turnDropped(): void {
    this.turnStartedAt = undefined;
  }

  /** An `audio` message of `packets` packets went out. */
  audioSent(packets: number): void {
    this.counts.packets += packets;
    if (this.turnStartedAt === undefined) return;
    const latency = performance.now() - this.turnStartedAt;
    this.turnStartedAt = undefined;
    this.metrics.firstAudioSeconds.observe({ voice: this.voice() }, latency / 1000);
    this.counts.firstAudioMs ??= Math.round(latency);
  }
}
