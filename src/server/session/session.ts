// One WebSocket session of protocol v1: its state machine, the dispatch of client
// messages and its lifecycle (idle and read watches, drain, close). Settings,
// reference clips, the wire, the play clock and the counting each live in a module
// of their own beside this one. Bad input is answered with an `error` and never
// throws out of here.
import { Observable, defer, from, map, of } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import type { PhraseSegmenter } from '../../pipeline/segmenter.js';
import { checkedMix } from '../../pipeline/synthesis/index.js';
import { CloseCode, ErrorCode, ProtocolError, decodeFrame, parseClientMessage, type ClientMessage, type StartMessage } from '../../protocol/index.js';
import type { OpusEncoderPool } from '../../stream/opus.js';
import { changeForTag, describePhraseEmotion, EmotionTimeline, type EmotionChange } from '../emotion-timeline.js';
import type { Logger } from '../logger.js';
import { MarkupReader, type EmotionTag, type MarkupItem } from '../markup.js';
import type { ServerMetrics } from '../metrics.js';
import { Outbox } from '../outbox.js';
import { RateLimiter } from '../rate-limit.js';
import { ReadWatch } from '../read-watch.js';
import { phraseMs, renderPhrase, samplesToMs, unspokenCourse, type PhraseAudio } from '../render.js';
import type { RepeatLog } from '../repeat-log.js';
import { checkEmotions, phraseRequest } from '../speech-settings.js';
import { SpeechRun, type Outcome, type PhraseCue } from './speech-run.js';
import { PhraseOrder, PHRASES_IN_PARALLEL } from '../phrase-order.js';
import { referenceFailure, synthesisFailure } from '../synthesis-failure.js';
import type { VoiceRegistry } from '../voices.js';
import { AudioWire } from './audio-wire.js';
import { PhraseTimer } from './phrase-timings.js';
import { PlayClock } from './play-clock.js';
import { ExpectedAudio } from '../expected-audio.js';
import { ReferenceClips } from './reference-clips.js';
import { SessionCounters } from './session-stats.js';
import { readyMessage, streamSettings, type StreamLimits, type StreamSettings } from './stream-settings.js';

export interface SessionLimits extends StreamLimits {
  maxMessagesPerSecond: number;
  idleTimeoutMs: number;
  highWaterBytes: number;
  chunkMs: number;
  /** How much later than at once a listener who hears nothing yet has its audio due (PlayClock). */
  firstAudioGraceMs: number;
}

export interface SessionDeps {
  id: string;
  /** The server instance, named in `ready` so that clients behind a load balancer see where they landed. */
  instance: string;
  socket: WebSocket;
  voices: Pick<VoiceRegistry, 'resolve'>;
  limits: SessionLimits;
  logger: Logger;
  metrics: ServerMetrics;
  createSegmenter(): PhraseSegmenter;
  /** Opus encoders, shared by the server's sessions; the session gives its own back when it closes. */
  encoders: OpusEncoderPool;
  /** Phrase failures, logged once per kind and window (shared by the server's sessions). */
  failures: RepeatLog;
  /** Called once, when the socket has closed and everything is released. */
  onClosed(): void;
}

export type SessionState = 'awaiting-start' | 'streaming' | 'ending' | 'draining' | 'closing' | 'closed';

export interface SessionSnapshot {
  id: string;
  state: SessionState;
  voice: string | undefined;
  phrasesRendered: number;
  phrasesDelivered: number;
  queuedBytes: number;
  pendingText: number;
}

type Marker = 'flushed' | 'done' | 'drained';

/** What `start` set up; the session has it from then on. */
interface Started {
  settings: StreamSettings;
  timeline: EmotionTimeline;
  references: ReferenceClips;
  wire: AudioWire;
  /** With `start.timings`. */
  timer?: PhraseTimer;
}

/** A phrase's audio placed on the session timeline, with what goes on the wire. */
interface PlacedPhrase {
  startSamples: number;
  audio: PhraseAudio;
  /** What goes on the wire (AudioWire.frames). */
  frames: Float32Array;
}

/**
 * Audio ahead of the listener below which text still buffered is cut at its next pause point
 * rather than at its sentence end: enough to find that point (a few words at LLM rates) and
 * synthesize a short phrase on a loaded server before the listener runs dry.
 */
const LOW_WATER_MS = 1500;

/**
 * How long the text may pause before what a listener who hears nothing yet is waiting for is cut
 * at its next pause point: a short opening sentence ("Sure!") waits for the text after it only
 * while that text keeps coming, not through an LLM's pause for a tool call.
 */
const OPENING_STALL_MS = 250;

export class Session {
  private state: SessionState = 'awaiting-start';
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private started: Started | undefined;
  private run: SpeechRun<PlacedPhrase, Marker, EmotionChange> | undefined;
  /** Takes emotion tags out of the text (passes it through when `start.markup` is off). */
  private markup = new MarkupReader<EmotionChange>(false);
  private readonly rate: RateLimiter;
  private phraseIds = 0;
  private readonly clock: PlayClock;
  private readonly expected = new ExpectedAudio();
  private readonly counters: SessionCounters;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly readWatch: ReadWatch;
  private drainTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(private readonly deps: SessionDeps) {
    this.outbox = new Outbox(deps.socket, deps.limits.highWaterBytes, () =>
      this.fail(new ProtocolError(ErrorCode.rateLimited, 'too many replies left unread: read the socket')),
    );
    this.rate = new RateLimiter(deps.limits.maxMessagesPerSecond);
    this.clock = new PlayClock(deps.limits.firstAudioGraceMs);
    this.log = deps.logger.child({ session: deps.id });
    this.counters = new SessionCounters(deps.metrics, () => this.started?.settings.voice.info.id ?? 'none');
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    deps.socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    deps.socket.on('close', (code) => this.released(code));
    deps.socket.on('error', (error) => this.log.warn({ err: error.message }, 'socket error'));
    this.readWatch = new ReadWatch(deps.socket, deps.limits.idleTimeoutMs, (silentMs) =>
      this.fail(new ProtocolError(ErrorCode.idleTimeout, `the client has not read for ${Math.round(silentMs)} ms (no pong)`)),
    );
    this.touch();
  }

  get id(): string {
    return this.deps.id;
  }

  /** Resolves when the socket has closed and the session released everything. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  snapshot(): SessionSnapshot {
    return {
      id: this.deps.id,
      state: this.state,
      voice: this.started?.settings.voice.info.id,
      phrasesRendered: this.counters.rendered,
      phrasesDelivered: this.counters.delivered,
      queuedBytes: this.outbox.queuedBytes,
      pendingText: this.pendingText,
    };
  }

  /**
   * Server shutdown: no new input; phrases already accepted go on until
   * `deadlineMs`, then whatever is left is cancelled; the socket closes with 1001.
   */
  drain(deadlineMs: number): Promise<void> {
    if (this.state === 'awaiting-start') {
      this.fail(new ProtocolError(ErrorCode.shuttingDown));
    } else if (this.state === 'streaming' || this.state === 'ending') {
      if (this.state === 'streaming') this.run?.flush('drained');
      this.state = 'draining';
      this.drainTimer = setTimeout(() => {
        this.fail(new ProtocolError(ErrorCode.shuttingDown, 'the server is shutting down; the rest was cancelled'));
      }, deadlineMs);
    }
    return this.closedPromise;
  }

  /** Closes at once (the server is closing without a drain). */
  terminate(): void {
    this.deps.socket.terminate();
  }

  private receive(data: RawData, isBinary: boolean): void {
    // Past the unread allowance the session is closing (a microtask away): input that
    // arrived in the same read would only queue more replies.
    if (this.gone || this.outbox.overflowed) return;
    if (!this.rate.take()) {
      const { maxMessagesPerSecond } = this.deps.limits;
      return this.fail(new ProtocolError(ErrorCode.rateLimited, `more than ${maxMessagesPerSecond} messages a second`));
    }
    // A message is activity only from a client that reads: one that sends a message a
    // second and never reads would otherwise hold its slot for ever (the idle timeout runs
    // while replies wait unread past the high-water mark).
    if (this.outbox.queuedBytes <= this.deps.limits.highWaterBytes) this.touch();
    try {
      if (!isBinary) throw new ProtocolError(ErrorCode.badMessage, 'messages are binary frames holding MessagePack; got a text frame');
      this.dispatch(parseClientMessage(decodeFrame(toBytes(data))));
    } catch (error) {
      if (error instanceof ProtocolError) this.sendError(error);
      else {
        this.log.error({ err: error }, 'unexpected error handling a message');
        this.sendError(new ProtocolError(ErrorCode.internal));
      }
    }
  }

  private dispatch(message: ClientMessage): void {
    if (this.state === 'awaiting-start') {
      if (message.type !== 'start') throw new ProtocolError(ErrorCode.notStarted, `"${message.type}" before "start"`);
      return this.start(message);
    }
    if (message.type === 'cancel') return this.cancelByClient();
    if (this.state === 'ending') throw new ProtocolError(ErrorCode.ended, `"${message.type}" after "end"`);
    if (this.state === 'draining') throw new ProtocolError(ErrorCode.shuttingDown, 'the server is shutting down and takes no new input');
    const run = this.run!;
    switch (message.type) {
      case 'start':
        throw new ProtocolError(ErrorCode.alreadyStarted, 'the session has already started');
      case 'text':
        return this.addText(run, message.text);
      case 'emotion':
        checkEmotions(message.weights, this.started!.references.known, 'weights');
        return this.follow(run, this.markup.mark({ mix: checkedMix(message.weights), rampMs: message.rampMs ?? 0 }));
      case 'flush':
        this.follow(run, this.markup.end());
        return run.flush('flushed');
      case 'end':
        this.state = 'ending';
        this.follow(run, this.markup.end());
        return run.flush('done');
      case 'reference':
        return this.started!.references.add(message.name, message.audio);
    }
  }

  private start(message: StartMessage): void {
    const { limits } = this.deps;
    const settings = streamSettings(message, this.deps.voices, limits, this.deps.encoders);
    const { voice } = settings;
    const timer = message.timings ? new PhraseTimer() : undefined;
    this.started = {
      settings,
      timeline: new EmotionTimeline(settings.base),
      references: new ReferenceClips(voice.info.emotions, (clip) => voice.engine.embedReference(clip), {
        added: (name) => this.outbox.send({ type: 'emotionAdded', name }),
        failed: (error) => this.sendError(referenceFailure(error, this.deps.failures, { session: this.deps.id })),
        gone: () => this.gone,
      }),
      wire: new AudioWire(this.outbox, settings.encoder, settings.pacing === 'realtime', limits.chunkMs, ({ phrase, packets, samples, encodeMs }) => {
        this.clock.sentNow(samples);
        this.touch();
        this.counters.audioSent(packets);
        timer?.encoded(phrase, encodeMs);
      }),
      ...(timer ? { timer } : {}),
    };
    this.markup = new MarkupReader(settings.markup);
    this.run = this.newRun();
    this.state = 'streaming';
    this.deps.metrics.sessionsTotal.inc({ voice: voice.info.id });
    this.log.info({ voice: voice.info.id, format: settings.encoder.format, steps: settings.steps }, 'session started');
    this.outbox.send(readyMessage(settings, { session: this.deps.id, instance: this.deps.instance }, limits));
  }

  /** Characters accepted and not yet spoken: in the run, or held as a possible tag. */
  private get pendingText(): number {
    return (this.run?.pendingText ?? 0) + this.markup.holding.length;
  }

  private addText(run: SpeechRun<PlacedPhrase, Marker, EmotionChange>, text: string): void {
    if (this.pendingText + text.length > this.deps.limits.maxBufferedText) {
      throw new ProtocolError(
        ErrorCode.textTooLong,
        `text: ${text.length} more characters would exceed the ${this.deps.limits.maxBufferedText} not yet spoken that a session may hold`,
        'text',
      );
    }
    if (run.idle) {
      this.counters.turnStarted();
      this.clock.turnStarted();
    }
    this.follow(run, this.markup.feed(text));
    this.keepSupplied(run);
    this.watchStall(run);
  }

  /** Hurries the text a silent listener waits for once no more of it has come for OPENING_STALL_MS. */
  private watchStall(run: SpeechRun<PlacedPhrase, Marker, EmotionChange>): void {
    clearTimeout(this.stallTimer);
    if (!this.clock.silent || run.unrendered > 0 || run.pendingText === 0) return;
    this.stallTimer = setTimeout(() => {
      if (this.run === run && this.clock.silent && run.unrendered === 0) run.hurry();
    }, OPENING_STALL_MS);
  }

  /**
   * Cuts the buffered text at its next pause point when the listener is about to run out of
   * audio and nothing else is being synthesized for it: a long sentence streaming in would
   * otherwise wait for its end while the listener hears silence.
   */
  private keepSupplied(run: SpeechRun<PlacedPhrase, Marker, EmotionChange>): void {
    if (run.unrendered > 0) return;
    const aheadMs = this.clock.aheadMs();
    if (aheadMs !== undefined && aheadMs < LOW_WATER_MS) run.hurry();
  }

  /** Text and emotion changes, in the order of the text, into the run; bad tags to the client. */
  private follow(run: SpeechRun<PlacedPhrase, Marker, EmotionChange>, items: MarkupItem<EmotionChange>[]): void {
    for (const item of items) {
      if (item.kind === 'text') run.push(item.text);
      else if (item.kind === 'mark') run.mark(item.mark);
      else if (item.kind === 'bad') this.badMarkup(item.source, item.reason);
      else {
        const change = this.tagChange(item.tag);
        if (typeof change === 'string') this.badMarkup(item.source, change);
        else run.mark(change);
      }
    }
  }

  private tagChange(tag: EmotionTag): EmotionChange | string {
    const { settings, references } = this.started!;
    return changeForTag(tag, { neutral: settings.voice.info.neutral, known: references.known, base: settings.base });
  }

  private badMarkup(source: string, reason: string): void {
    this.deps.metrics.errors.inc({ code: ErrorCode.badMarkup });
    this.outbox.send({ type: 'error', code: ErrorCode.badMarkup, message: `text: bad emotion tag: ${reason}; it is not spoken`, fatal: false, field: 'text', text: source });
  }

  private cancelByClient(): void {
    this.cancel();
    // A pending `end` or drain has nothing left to wait for.
    if (this.state === 'ending') this.finish();
    else if (this.state === 'draining') this.fail(new ProtocolError(ErrorCode.shuttingDown));
  }

  /** Drops everything not yet spoken and reports it in a `cancelled` message; a new run takes new text. */
  private cancel(): void {
    const run = this.run;
    if (!run) return;
    const { phrases, text: unspoken, lastChange } = run.cancel();
    // Characters held as a possible tag were accepted and will not be spoken either.
    const held = this.markup.holding;
    const text = held ? [unspoken, held].filter(Boolean).join(' ') : unspoken;
    this.markup = new MarkupReader(this.started!.settings.markup);
    this.started!.wire.stop();
    this.counters.cancelled(this.phraseIds - this.counters.settled);
    this.clock.dropUnsent();
    this.counters.turnDropped();
    this.started!.timer?.dropOpen();
    this.outbox.send({ type: 'cancelled', phrases, text });
    this.run = this.newRun();
    // The last change sent is still the mix in force for the text that comes next.
    if (lastChange) this.run.mark(lastChange);
  }

  private newRun(): SpeechRun<PlacedPhrase, Marker, EmotionChange> {
    this.started!.wire.restart();
    const timer = this.started!.timer;
    const nextId = () => {
      const id = ++this.phraseIds;
      timer?.cut(id);
      return id;
    };
    const order = new PhraseOrder(this.started!.timeline);
    return new SpeechRun<PlacedPhrase, Marker, EmotionChange>(this.deps.createSegmenter(), nextId, {
      render: (phrase, signal) => this.render(order, phrase, signal),
      deliver: (outcome) => this.deliver(outcome),
      crashed: (error) => {
        this.log.error({ err: error }, 'speech pipeline crashed');
        this.fail(new ProtocolError(ErrorCode.internal));
      },
    }, PHRASES_IN_PARALLEL);
  }

  private async render(order: PhraseOrder, phrase: PhraseCue<EmotionChange>, signal: AbortSignal): Promise<PlacedPhrase> {
    const { settings, timeline, references, wire, timer } = this.started!;
    timer?.started(phrase.id);
    const turn = order.next(phrase.marks);
    const expected = this.expected.begin(phrase.text.length);
    try {
      const start = await turn.start(() => samplesToMs(this.clock.renderCursor));
      let audio: PhraseAudio;
      try {
        audio = await renderPhrase(
          settings.voice,
          phrase.text,
          phrase.marks,
          start,
          // Under load the engine serves first the phrase whose listener reaches it soonest (for a
          // phrase ahead, after the audio expected of the phrases before it).
          phraseRequest(settings, phrase.id, { deadline: this.clock.deadlineAfter(expected.afterMs), signal, customEmotions: references.custom }),
          wire.pcmRate,
        );
      } catch (error) {
        // A failed phrase's changes still take over: the text after it keeps the mix asked for.
        await turn.placeable;
        if (!signal.aborted) timeline.advance(samplesToMs(this.clock.renderCursor), unspokenCourse(start, phrase.text, phrase.marks));
        throw error;
      }
      this.counters.rendered++;
      const frames = wire.frames(audio.pcm);
      timer?.rendered(phrase.id, audio);
      await turn.placeable;
      // Cancelled meanwhile: the next run places its phrases from the audio sent.
      if (signal.aborted) throw signal.reason;
      const startSamples = this.clock.renderCursor;
      const samples = frames.length * wire.scale;
      this.clock.renderedTo(startSamples + samples);
      expected.placed(samplesToMs(samples));
      timeline.advance(samplesToMs(startSamples), audio.course);
      return { startSamples, audio, frames };
    } finally {
      expected.release();
      turn.placed();
    }
  }

  private deliver(outcome: Outcome<PlacedPhrase, Marker, EmotionChange>): Observable<unknown> {
    switch (outcome.kind) {
      case 'marker':
        // Reference clips still being analysed get their answer before `done`.
        return defer(() => (outcome.marker === 'done' ? from(this.started!.references.settled) : of(undefined))).pipe(map(() => this.reachedMarker(outcome.marker)));
      case 'failed':
        return defer(() => of(this.phraseFailed(outcome.phrase, outcome.error)));
      case 'rendered':
        return this.deliverPhrase(outcome.phrase, outcome.value);
    }
  }

  private reachedMarker(marker: Marker): void {
    if (marker === 'flushed') this.outbox.send({ type: 'flushed' });
    else if (marker === 'done') this.finish();
    else this.fail(new ProtocolError(ErrorCode.shuttingDown, 'the server is shutting down; everything accepted was spoken'));
  }

  private phraseFailed(phrase: PhraseCue, error: unknown): void {
    this.counters.failed();
    const failure = synthesisFailure(error, this.deps.failures, { session: this.deps.id, phrase: phrase.id }, 'phrase failed');
    this.deps.metrics.errors.inc({ code: failure.code });
    this.outbox.send({ type: 'error', code: failure.code, message: failure.message, fatal: false, phrase: phrase.id, text: phrase.text });
  }

  private deliverPhrase(phrase: PhraseCue, rendered: PlacedPhrase): Observable<unknown> {
    const { startSamples, audio, frames } = rendered;
    const startMs = samplesToMs(startSamples);
    const emotion = describePhraseEmotion(audio.course, audio.changeWords, startMs, audio.words);
    const { wire, timer } = this.started!;
    return new Observable((subscriber) => {
      timer?.delivering(phrase.id);
      this.outbox.send({
        type: 'phrase',
        id: phrase.id,
        text: phrase.text,
        startMs,
        durationMs: phraseMs(audio),
        words: audio.words.map((w, k) => ({ word: w.word, startMs: startMs + w.startMs, endMs: startMs + w.endMs, emotion: emotion.wordMixes[k]! })),
        emotion: emotion.emotion,
        ...(emotion.ramp ? { ramp: emotion.ramp } : {}),
        segments: emotion.segments,
        ...(audio.silent ? { silent: true as const } : {}),
      });
      wire.queue(phrase.id, frames, () => {
        this.counters.spoken(audio);
        timer?.sent(phrase.id);
        subscriber.complete();
      });
    });
  }

  private finish(): void {
    const timer = this.started?.timer;
    this.outbox.send({ type: 'done', stats: { ...this.counters.stats, ...(timer ? { phraseTimings: timer.timings } : {}) } });
    this.close(CloseCode.normal, 'done');
  }

  /** Closing or closed: nothing more reaches the client. */
  private get gone(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  private sendError(error: ProtocolError, fatal = false): void {
    this.deps.metrics.errors.inc({ code: error.code });
    // Non-fatal rejections are a client's to see, not the operator's: at info level a
    // client sending garbage would write a log line per message.
    this.log[fatal ? 'info' : 'debug']({ code: error.code, field: error.field, fatal }, 'rejected input');
    this.outbox.send({ type: 'error', code: error.code, message: error.message, fatal, ...(error.field ? { field: error.field } : {}) });
  }

  /** A fatal error: report what will not be spoken, then the error, then close with the error's close code. */
  private fail(error: ProtocolError): void {
    if (this.gone) return;
    if (this.run && !this.run.idle) this.cancel();
    this.sendError(error, true);
    this.close(error.closeCode, error.code);
  }

  private close(code: number, reason: string): void {
    if (this.gone) return;
    this.state = 'closing';
    this.stopTimers();
    this.run?.cancel();
    this.started?.wire.stop();
    this.deps.socket.close(code, reason);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.fail(new ProtocolError(ErrorCode.idleTimeout, `no message and no audio for ${this.deps.limits.idleTimeoutMs} ms`)),
      this.deps.limits.idleTimeoutMs,
    );
  }

  private stopTimers(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.stallTimer);
    this.readWatch.stop();
    clearTimeout(this.drainTimer);
  }

  /** The socket is closed (by either side): release everything. */
  private released(code: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    this.run?.cancel();
    // Nothing encodes any more: the run is stopped, and the wire with its encoder.
    this.started?.wire.release();
    this.outbox.wake();
    const { phrases, audioMs } = this.counters.stats;
    this.log.info({ code, phrases, audioMs: Math.round(audioMs) }, 'session closed');
    this.deps.onClosed();
    this.resolveClosed();
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
