// Where each phrase of a session spent its time (`start.timings`): the moments it
// passes from stage to stage on the main thread, and the engine's own stages.
import type { PhraseTimings } from '../../protocol/index.js';
import type { PhraseAudio } from '../render.js';

interface Marks {
  cutAt: number;
  startedAt?: number;
  renderedAt?: number;
  deliveringAt?: number;
  audio?: PhraseAudio;
  encodeMs: number;
}

export class PhraseTimer {
  private readonly open = new Map<number, Marks>();
  private readonly spoken: PhraseTimings[] = [];

  /** Phrases spoken so far, in order. */
  get timings(): PhraseTimings[] {
    return [...this.spoken];
  }

  cut(phrase: number): void {
    this.open.set(phrase, { cutAt: performance.now(), encodeMs: 0 });
  }

  started(phrase: number): void {
    this.mark(phrase, (m) => (m.startedAt = performance.now()));
  }

  rendered(phrase: number, audio: PhraseAudio): void {
    this.mark(phrase, (m) => Object.assign(m, { renderedAt: performance.now(), audio }));
  }

  delivering(phrase: number): void {
    this.mark(phrase, (m) => (m.deliveringAt = performance.now()));
  }

  encoded(phrase: number, ms: number): void {
    this.mark(phrase, (m) => (m.encodeMs += ms));
  }

  /** Its last audio message is on the socket. */
  sent(phrase: number): void {
    const m = this.open.get(phrase);
    this.open.delete(phrase);
    if (!m?.audio || m.startedAt === undefined || m.renderedAt === undefined || m.deliveringAt === undefined) return;
    const { audio } = m;
    const s = audio.stages;
    this.spoken.push({
      phrase,
      queuedMs: m.startedAt - m.cutAt,
      synthesisMs: audio.synthesisMs,
      ...(s?.frontendMs !== undefined ? { frontendMs: s.frontendMs } : {}),
      ...(s?.encoderMs !== undefined ? { encoderMs: s.encoderMs } : {}),
      ...(s?.decoderMs !== undefined ? { decoderMs: s.decoderMs } : {}),
      ...(s?.estimatorMs !== undefined ? { estimatorMs: s.estimatorMs } : {}),
      ...(s?.vocoderMs !== undefined ? { vocoderMs: s.vocoderMs } : {}),
      ...(s?.workers ? { workerQueuedMs: s.workers.queuedMs, workerMs: s.workers.workMs, messagingMs: s.workers.messagingMs } : {}),
      resampleMs: audio.resampleMs,
      heldMs: m.deliveringAt - m.renderedAt,
      encodeMs: m.encodeMs,
      deliveryMs: performance.now() - m.deliveringAt,
    });
  }

  /** The phrases in flight were cancelled: they will not be spoken. */
  dropOpen(): void {
    this.open.clear();
  }

  private mark(phrase: number, set: (m: Marks) => void): void {
    const m = this.open.get(phrase);
    if (m) set(m);
  }
}
