// Drives one protocol session for a LiveKit stream: text (with its markup)
// goes out as it arrives, audio and word timings come back as LiveKit frames.
import { APIError, AudioByteStream, createTimedString, log, shortuuid, type TimedString, type tts } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { expressionMix } from './emotions.js';
import { MarkupReader } from './markup.js';
import type { ClientMessage, DoneMessage, SpokenWord, Weights } from './protocol.js';
import { refusal, type EmomixSession } from './session.js';
import { alignTokens } from './transcript.js';

/** A phrase as the server announced it. */
export interface Phrase {
  text: string;
  /** On the session timeline: milliseconds from the session's first audio. */
  startMs: number;
  /** Its speech; its audio is this rounded up to whole 20 ms frames. */
  durationMs: number;
  /** The emotion mix at its first frame, normalised. */
  emotion: Weights;
  /** The words as pronounced, with their times and mixes. */
  words: SpokenWord[];
}

/** Where the accepted text ended up, as the server reported it. */
export interface SpeechOutcome {
  /** The server's session id (also in its logs). */
  session: string;
  /** The phrases spoken in full, in order. */
  spoken: Phrase[];
  /** The phrases cut short by a cancel. */
  cancelledPhrases: Phrase[];
  /** Text accepted but never announced, cancelled before synthesis (empty when none). */
  cancelledText: string;
  /** Texts of the phrases whose synthesis failed. */
  failed: string[];
  /** The server's `done` statistics; undefined when the session ended without one (cancelled before `end`, or lost). */
  stats: DoneMessage['stats'] | undefined;
}

// Frames of the wire's 20 ms: pcm16 packets are whole frames, so no audio waits in the byte stream between phrases.
const FRAMES_PER_SECOND = 50;

export class Speech {
  private readonly markup = new MarkupReader();
  private readonly bytes: AudioByteStream;
  private frame: AudioFrame | undefined;
  private transcripts: TimedString[] = [];
  private segmentId = shortuuid('SEG_');
  private readonly phrases = new Map<number, Phrase>();
  private readonly outcome: SpeechOutcome;
  private cancelling = false;

  constructor(
    private readonly session: EmomixSession,
    private readonly emit: (audio: tts.SynthesizedAudio) => void,
    private readonly rampMs: number,
  ) {
    const { sampleRate } = session.ready;
    this.bytes = new AudioByteStream(sampleRate, 1, sampleRate / FRAMES_PER_SECOND);
    this.outcome = { session: session.id, spoken: [], cancelledPhrases: [], cancelledText: '', failed: [], stats: undefined };
  }

  /** Text as the LLM writes it, markup included. Returns whether any text was sent on. */
  push(text: string): boolean {
    let spoke = false;
    for (const piece of this.markup.push(text)) {
      if (piece.kind === 'text') spoke = this.text(piece.text) || spoke;
      else this.expression(piece.label);
    }
    return spoke;
  }

  /** The end of a LiveKit segment: speak what is buffered; its last frame is marked final. */
  flush(): void {
    this.drainMarkup();
    this.send({ type: 'flush' });
  }

  /** No more text: the session ends once everything is spoken. */
  end(): void {
    this.drainMarkup();
    this.send({ type: 'end' });
  }

  /** Changes the mix from this point of the text on (the server anchors a change at its place in the text). */
  setEmotion(weights: Weights, rampMs = this.rampMs): void {
    this.send({ type: 'emotion', weights, ...(rampMs > 0 ? { rampMs } : {}) });
  }

  /** Barge-in: the server stops at once and reports what it will not speak; no audio is emitted after this. */
  cancel(): void {
    if (this.cancelling) return;
    this.cancelling = true;
    this.session.send({ type: 'cancel' });
  }

  /** Receives until the session is over; rejects when it failed. */
  async receive(): Promise<SpeechOutcome> {
    let finished = false;
    for await (const message of this.session) {
      switch (message.type) {
        case 'phrase':
          this.phrases.set(message.id, { text: message.text, startMs: message.startMs, durationMs: message.durationMs, emotion: message.emotion, words: message.words });
          for (const token of alignTokens(message.text, message.words)) {
            this.transcripts.push(createTimedString({ text: token.text, startTime: token.startMs / 1000, endTime: token.endMs / 1000 }));
          }
          break;
        case 'audio':
          if (!this.cancelling) for (const packet of message.packets) this.frames(this.bytes.write(packet));
          break;
        case 'flushed':
          this.endSegment();
          break;
        case 'cancelled':
          for (const id of message.phrases) {
            const phrase = this.phrases.get(id);
            if (phrase) this.outcome.cancelledPhrases.push(phrase);
            this.phrases.delete(id);
          }
          this.outcome.cancelledText = message.text;
          if (this.cancelling) {
            finished = true;
            this.session.close();
          }
          break;
        case 'error':
          if (message.code === 'synthesis_failed') {
            log().warn({ session: this.session.id, phrase: message.phrase }, `emomix: ${message.message}`);
            this.outcome.failed.push(message.text ?? '');
            if (message.phrase !== undefined) this.phrases.delete(message.phrase);
          } else if (message.fatal || message.code === 'text_too_long') {
            // What was sent is still played. Text already taken from LiveKit's input would be lost on a retry: never retryable.
            this.endSegment();
            throw refusal(message, false);
          } else {
            log().warn({ session: this.session.id, code: message.code, field: message.field }, `emomix refused a message: ${message.message}`);
          }
          break;
        case 'done':
          this.endSegment();
          this.outcome.stats = message.stats;
          finished = true;
          break;
      }
    }
    if (!finished) {
      this.endSegment();
      throw new APIError(`emomix: session ${this.session.id} closed before it was done`, { retryable: false });
    }
    this.outcome.spoken = [...this.phrases.values()];
    return this.outcome;
  }

  private text(text: string): boolean {
    if (text === '') return false;
    this.send({ type: 'text', text });
    return true;
  }

  private expression(label: string): void {
    const { emotions, neutral } = this.session.ready;
    this.setEmotion(expressionMix(label, emotions, neutral), 0);
  }

  private drainMarkup(): void {
    for (const piece of this.markup.end()) {
      if (piece.kind === 'text') this.text(piece.text);
      else this.expression(piece.label);
    }
  }

  private send(message: ClientMessage): void {
    if (!this.cancelling) this.session.send(message);
  }

  private frames(frames: AudioFrame[]): void {
    for (const frame of frames) {
      if (this.frame) this.put(this.frame, false);
      this.frame = frame;
    }
  }

  private endSegment(): void {
    this.frames(this.bytes.flush());
    if (this.frame) this.put(this.frame, true);
    this.frame = undefined;
    this.segmentId = shortuuid('SEG_');
  }

  private put(frame: AudioFrame, final: boolean): void {
    const timedTranscripts = this.transcripts.length > 0 ? this.transcripts : undefined;
    this.transcripts = [];
    this.emit({ requestId: this.session.id, segmentId: this.segmentId, frame, final, ...(timedTranscripts ? { timedTranscripts } : {}) });
  }
}
