// One WebSocket session of protocol v1: its state machine, the settings fixed
// by `start`, and the delivery side of the speech pipeline (timeline, Opus or
// PCM packets, backpressure, pacing). Bad input is answered with an `error`
// and never throws out of here.
import { Observable, Subject, concatMap, defer, from, map, of, type Subscription } from 'rxjs';
import type { RawData, WebSocket } from 'ws';
import { checkedMix } from '../pipeline/synthesis/index.js';
import type { OpusEncoderPool } from '../stream/opus.js';
import { pacePackets } from '../stream/pacing.js';
import { decodeFrame, CloseCode, ErrorCode, ProtocolError, FRAME_MS, OUTPUT_SAMPLE_RATE, PROTOCOL_VERSION, parseClientMessage, type ClientMessage, type ReferenceMessage, type SessionStats, type StartMessage, wireSampleRate } from '../protocol/index.js';
import { changeForTag, describePhraseEmotion, EmotionTimeline, type EmotionChange } from './emotion-timeline.js';
import type { Logger } from './logger.js';
import { atRate } from './output-rate.js';
import { countSpoken, type ServerMetrics } from './metrics.js';
import { MarkupReader, type EmotionTag, type MarkupItem } from './markup.js';
import { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limit.js';
import { ReadWatch } from './read-watch.js';
import type { RepeatLog } from './repeat-log.js';
import { referenceFailure, synthesisFailure } from './synthesis-failure.js';
import { renderPhrase, samplesToMs, unspokenCourse, type RenderedPhrase } from './render.js';
import type { PhraseSegmenter } from '../pipeline/segmenter.js';
import { SpeechRun, type Outcome, type PhraseCue } from './speech-run.js';
import { checkEmotions, phraseRequest, speechSettings, type SpeechSettings } from './speech-settings.js';
import type { VoiceRegistry } from './voices.js';
import { createWireEncoder, type WireEncoder } from './wire-encoder.js';

export interface SessionLimits {
  maxBufferedText: number;
  maxMessageBytes: number;
  maxSteps: number;
  maxMessagesPerSecond: number;
  idleTimeoutMs: number;
  highWaterBytes: number;
  chunkMs: number;
  pacing: 'asap' | 'realtime';
}

export interface SessionDeps {
  id: string;
  /** The server instance, named in `ready` so that clients behind a load balancer see where they landed. */
  instance: string;
  socket: WebSocket;
  voices: VoiceRegistry;
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

interface Settings extends SpeechSettings {
  pacing: 'asap' | 'realtime';
  wire: WireEncoder;
  /** 48 kHz samples (the session timeline's unit) per sample on the wire. */
  wireScale: number;
  timeline: EmotionTimeline;
  markup: boolean;
}

interface Rendered {
  startSamples: number;
  audio: RenderedPhrase;
  /** The audio at the wire's rate, padded with silence to whole 20 ms frames: what goes on the wire. */
  frames: Float32Array;
}

/** One `audio` message's worth of a phrase, at the wire's rate; `sent` runs once it is on the socket. */
interface WireChunk {
  phrase: number;
  pcm: Float32Array;
  sent?: () => void;
}

const MAX_REFERENCES = 32;
/**
 * Audio ahead of the listener below which text still buffered is cut at its next pause point
 * rather than at its sentence end: enough to find that point (a few words at LLM rates) and
 * synthesize a short phrase on a loaded server before the listener runs dry.
 */
const LOW_WATER_MS = 1500;
// Reference clips are analysed one at a time per session (in an inference worker, which
// they then hold for up to a few hundred ms) and only this many may wait, so a client
// cannot queue unbounded audio and inference.
const MAX_WAITING_REFERENCES = 4;

export class Session {
  private state: SessionState = 'awaiting-start';
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private settings: Settings | undefined;
  private run: SpeechRun<Rendered, Marker, EmotionChange> | undefined;
  /** Takes emotion tags out of the text (passes it through when `start.markup` is off). */
  private markup = new MarkupReader<EmotionChange>(false);
  /** The current run's audio on its way to the socket: pacing, then backpressure. */
  private wire: Subject<WireChunk> | undefined;
  private wireSubscription: Subscription | undefined;
  private readonly references = new Map<string, Float32Array>();
  private referencesWaiting = 0;
  private referenceChain: Promise<void> = Promise.resolve();
  private readonly rate: RateLimiter;
  private phraseIds = 0;
  private seq = 0;
  /** End of the audio delivered so far, in 48 kHz samples: the session timeline. */
  private sentSamples = 0;
  /** Where the next phrase synthesized will start (ahead of sentSamples while phrases wait). */
  private renderCursor = 0;
  /**
   * When, as far as the server can tell, the listener's play head was at timeline 0: set
   * by the first audio and moved on whenever audio goes out after its play time (the
   * listener ran dry and waited).
   */
  private playStart: number | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly readWatch: ReadWatch;
  private drainTimer: NodeJS.Timeout | undefined;
  private turnStartedAt: number | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly stats: SessionStats = {
    phrases: 0,
    failedPhrases: 0,
    cancelledPhrases: 0,
    audioMs: 0,
    packets: 0,
    synthesisMs: 0,
    realTimeFactor: 0,
    firstAudioMs: null,
  };
  private phrasesRendered = 0;

  constructor(private readonly deps: SessionDeps) {
    this.outbox = new Outbox(deps.socket, deps.limits.highWaterBytes, () =>
      this.fail(new ProtocolError(ErrorCode.rateLimited, 'too many replies left unread: read the socket')),
    );
    this.rate = new RateLimiter(deps.limits.maxMessagesPerSecond);
    this.log = deps.logger.child({ session: deps.id });
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
      voice: this.settings?.voice.info.id,
      phrasesRendered: this.phrasesRendered,
      phrasesDelivered: this.stats.phrases + this.stats.failedPhrases,
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
    if (this.state === 'closing' || this.state === 'closed' || this.outbox.overflowed) return;
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
        checkEmotions(message.weights, [...this.settings!.voice.info.emotions, ...this.references.keys()], 'weights');
        return this.follow(run, this.markup.mark({ mix: checkedMix(message.weights), rampMs: message.rampMs ?? 0 }));
      case 'flush':
        this.follow(run, this.markup.end());
        return run.flush('flushed');
      case 'end':
        this.state = 'ending';
        this.follow(run, this.markup.end());
        return run.flush('done');
      case 'reference':
        return this.addReference(message);
    }
  }

  private start(message: StartMessage): void {
    const voice = this.deps.voices.resolve(message.voice);
    const { limits } = this.deps;
    const speech = speechSettings(voice, message, limits.maxSteps);
    const format = message.format ?? 'opus';
    const sampleRate = wireSampleRate(format, message.sampleRate);
    const settings: Settings = {
      ...speech,
      pacing: message.pacing ?? limits.pacing,
      wire: createWireEncoder(format, sampleRate, this.deps.encoders),
      wireScale: OUTPUT_SAMPLE_RATE / sampleRate,
      timeline: new EmotionTimeline(speech.base),
      markup: message.markup ?? false,
    };
    this.markup = new MarkupReader(settings.markup);
    this.settings = settings;
    this.run = this.newRun();
    this.state = 'streaming';
    this.deps.metrics.sessionsTotal.inc({ voice: voice.info.id });
    this.log.info({ voice: voice.info.id, format, steps: settings.steps }, 'session started');
    this.outbox.send({
      type: 'ready',
      protocol: PROTOCOL_VERSION,
      session: this.deps.id,
      instance: this.deps.instance,
      voice: voice.info.id,
      speaker: settings.speaker,
      emotions: voice.info.emotions,
      neutral: voice.info.neutral,
      sampleRate,
      frameMs: FRAME_MS,
      format,
      steps: settings.steps,
      pacing: settings.pacing,
      ...(settings.wire.preSkip !== undefined ? { preSkip: settings.wire.preSkip } : {}),
      limits: { maxMessageBytes: limits.maxMessageBytes, maxBufferedText: limits.maxBufferedText, maxSteps: limits.maxSteps },
    });
  }

  /** Characters accepted and not yet spoken: in the run, or held as a possible tag. */
  private get pendingText(): number {
    return (this.run?.pendingText ?? 0) + this.markup.holding.length;
  }

  private addText(run: SpeechRun<Rendered, Marker, EmotionChange>, text: string): void {
    if (this.pendingText + text.length > this.deps.limits.maxBufferedText) {
      throw new ProtocolError(
        ErrorCode.textTooLong,
        `text: ${text.length} more characters would exceed the ${this.deps.limits.maxBufferedText} not yet spoken that a session may hold`,
        'text',
      );
    }
    if (this.turnStartedAt === undefined && run.idle) this.turnStartedAt = performance.now();
    this.follow(run, this.markup.feed(text));
    this.keepSupplied(run);
  }

  /**
   * Cuts the buffered text at its next pause point when the listener is about to run out of
   * audio and nothing else is being synthesized for it: a long sentence streaming in would
   * otherwise wait for its end while the listener hears silence.
   */
  private keepSupplied(run: SpeechRun<Rendered, Marker, EmotionChange>): void {
    if (this.playStart === undefined || run.unrendered > 0) return;
    const aheadMs = this.playStart + samplesToMs(this.renderCursor) - performance.now();
    if (aheadMs < LOW_WATER_MS) run.hurry();
  }

  /** Text and emotion changes, in the order of the text, into the run; bad tags to the client. */
  private follow(run: SpeechRun<Rendered, Marker, EmotionChange>, items: MarkupItem<EmotionChange>[]): void {
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
    const { voice, base } = this.settings!;
    return changeForTag(tag, { neutral: voice.info.neutral, known: [...voice.info.emotions, ...this.references.keys()], base });
  }

  private badMarkup(source: string, reason: string): void {
    this.deps.metrics.errors.inc({ code: ErrorCode.badMarkup });
    this.outbox.send({ type: 'error', code: ErrorCode.badMarkup, message: `text: bad emotion tag: ${reason}; it is not spoken`, fatal: false, field: 'text', text: source });
  }

  private addReference(message: ReferenceMessage): void {
    const { name, audio } = message;
    if (this.settings!.voice.info.emotions.includes(name)) {
      throw new ProtocolError(ErrorCode.invalidField, `name: "${name}" is one of the voice's own emotions`, 'name');
    }
    if (!this.references.has(name) && this.references.size + this.referencesWaiting >= MAX_REFERENCES) {
      throw new ProtocolError(ErrorCode.invalidField, `name: at most ${MAX_REFERENCES} reference emotions per session`, 'name');
    }
    if (this.referencesWaiting >= MAX_WAITING_REFERENCES) {
      throw new ProtocolError(ErrorCode.rateLimited, `audio: ${MAX_WAITING_REFERENCES} reference clips are already waiting; wait for emotionAdded`, 'audio');
    }
    this.referencesWaiting++;
    this.referenceChain = this.referenceChain.then(() => this.embedReference(name, audio)).finally(() => this.referencesWaiting--);
  }

  /** Never rejects: the outcome goes to the client. */
  private async embedReference(name: string, audio: Uint8Array): Promise<void> {
    if (this.gone) return;
    try {
      const embedding = await this.settings!.voice.engine.embedReference(audio);
      if (this.gone) return;
      this.references.set(name, embedding);
      this.outbox.send({ type: 'emotionAdded', name });
    } catch (error) {
      this.sendError(referenceFailure(error, this.deps.failures, { session: this.deps.id }));
    }
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
    this.markup = new MarkupReader(this.settings!.markup);
    this.wireSubscription?.unsubscribe();
    const dropped = this.phraseIds - this.stats.phrases - this.stats.failedPhrases - this.stats.cancelledPhrases;
    this.stats.cancelledPhrases += dropped;
    if (dropped > 0) this.deps.metrics.phrases.inc({ voice: this.voiceId, outcome: 'cancelled' }, dropped);
    this.renderCursor = this.sentSamples;
    this.turnStartedAt = undefined;
    this.outbox.send({ type: 'cancelled', phrases, text });
    this.run = this.newRun();
    // The last change sent is still the mix in force for the text that comes next.
    if (lastChange) this.run.mark(lastChange);
  }

  private newRun(): SpeechRun<Rendered, Marker, EmotionChange> {
    const realtime = this.settings!.pacing === 'realtime';
    // One pacer per run, so real-time pacing follows the session timeline across phrases.
    this.wire = new Subject<WireChunk>();
    this.wireSubscription = this.wire
      .pipe(
        pacePackets({ realtime, packetMs: FRAME_MS }),
        concatMap((chunk) => from(this.outbox.whenWritable()).pipe(map(() => chunk))),
      )
      .subscribe((chunk) => {
        this.sendAudio(chunk.phrase, chunk.pcm);
        chunk.sent?.();
      });
    return new SpeechRun<Rendered, Marker, EmotionChange>(this.deps.createSegmenter(), () => ++this.phraseIds, {
      render: (phrase, signal) => this.render(phrase, signal),
      deliver: (outcome) => this.deliver(outcome),
      crashed: (error) => {
        this.log.error({ err: error }, 'speech pipeline crashed');
        this.fail(new ProtocolError(ErrorCode.internal));
      },
    });
  }

  private async render(phrase: PhraseCue<EmotionChange>, signal: AbortSignal): Promise<Rendered> {
    const s = this.settings!;
    const startSamples = this.renderCursor;
    const startMs = samplesToMs(startSamples);
    const start = s.timeline.forPhrase(startMs);
    let audio: RenderedPhrase;
    try {
      audio = await renderPhrase(
        s.voice,
        phrase.text,
        phrase.marks,
        start,
        // Under load the engine first serves the phrase whose listener runs out of audio soonest.
        phraseRequest(s, phrase.id, { deadline: this.playDeadline(startSamples), signal, customEmotions: Object.fromEntries(this.references) }),
      );
    } catch (error) {
      // A failed phrase's changes still take over: the text after it keeps the mix asked for.
      if (!signal.aborted) s.timeline.advance(startMs, unspokenCourse(start, phrase.text, phrase.marks));
      throw error;
    }
    this.phrasesRendered++;
    const { frameSamples } = s.wire;
    const pcm = await atRate(audio.pcm, s.wire.sampleRate);
    const frames = new Float32Array(Math.ceil(pcm.length / frameSamples) * frameSamples);
    frames.set(pcm);
    this.renderCursor = startSamples + frames.length * s.wireScale;
    s.timeline.advance(startMs, audio.course);
    return { startSamples, audio, frames };
  }

  private deliver(outcome: Outcome<Rendered, Marker, EmotionChange>): Observable<unknown> {
    switch (outcome.kind) {
      case 'marker':
        // Reference clips still being analysed get their answer before `done`.
        return defer(() => (outcome.marker === 'done' ? from(this.referenceChain) : of(undefined))).pipe(map(() => this.reachedMarker(outcome.marker)));
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
    this.stats.failedPhrases++;
    this.deps.metrics.phrases.inc({ voice: this.voiceId, outcome: 'failed' });
    const failure = synthesisFailure(error, this.deps.failures, { session: this.deps.id, phrase: phrase.id }, 'phrase failed');
    this.deps.metrics.errors.inc({ code: failure.code });
    this.outbox.send({ type: 'error', code: failure.code, message: failure.message, fatal: false, phrase: phrase.id, text: phrase.text });
  }

  private deliverPhrase(phrase: PhraseCue, rendered: Rendered): Observable<unknown> {
    const { startSamples, audio, frames } = rendered;
    const startMs = samplesToMs(startSamples);
    const emotion = describePhraseEmotion(audio.course, audio.changeWords, startMs, audio.words);
    // Real time goes out frame by frame; otherwise in chunks, fewer messages for the same audio.
    const { pacing, wire } = this.settings!;
    const chunk = pacing === 'realtime' ? wire.frameSamples : (this.deps.limits.chunkMs * wire.sampleRate) / 1000;
    return new Observable((subscriber) => {
      this.outbox.send({
        type: 'phrase',
        id: phrase.id,
        text: phrase.text,
        startMs,
        durationMs: samplesToMs(audio.pcm.length),
        words: audio.words.map((w, k) => ({ word: w.word, startMs: startMs + w.startMs, endMs: startMs + w.endMs, emotion: emotion.wordMixes[k]! })),
        emotion: emotion.emotion,
        ...(emotion.ramp ? { ramp: emotion.ramp } : {}),
        segments: emotion.segments,
        ...(audio.silent ? { silent: true as const } : {}),
      });
      const done = () => {
        this.phraseSpoken(audio);
        subscriber.complete();
      };
      if (frames.length === 0) return done();
      for (let offset = 0; offset < frames.length; offset += chunk) {
        const last = offset + chunk >= frames.length;
        this.wire!.next({ phrase: phrase.id, pcm: frames.subarray(offset, offset + chunk), ...(last ? { sent: done } : {}) });
      }
    });
  }

  /** When the listener will reach timeline position `samples`: now for a listener already waiting. */
  private playDeadline(samples: number): number {
    const now = performance.now();
    return this.playStart === undefined ? now : Math.max(now, this.playStart + samplesToMs(samples));
  }

  private sendAudio(phrase: number, pcm: Float32Array): void {
    const { wire, wireScale } = this.settings!;
    const packets = wire.encode(pcm);
    this.outbox.send({ type: 'audio', phrase, seq: this.seq, packets });
    this.seq += packets.length;
    this.stats.packets += packets.length;
    const now = performance.now();
    const sentMs = samplesToMs(this.sentSamples);
    if (this.playStart === undefined || now > this.playStart + sentMs) this.playStart = now - sentMs;
    this.sentSamples += pcm.length * wireScale;
    this.touch();
    if (this.turnStartedAt !== undefined) {
      const latency = performance.now() - this.turnStartedAt;
      this.turnStartedAt = undefined;
      this.deps.metrics.firstAudioSeconds.observe({ voice: this.voiceId }, latency / 1000);
      this.stats.firstAudioMs ??= Math.round(latency);
    }
  }

  private phraseSpoken(audio: RenderedPhrase): void {
    const audioMs = samplesToMs(audio.pcm.length);
    this.stats.phrases++;
    this.stats.audioMs += audioMs;
    this.stats.synthesisMs += audio.synthesisMs;
    this.stats.realTimeFactor = this.stats.audioMs > 0 ? this.stats.synthesisMs / this.stats.audioMs : 0;
    countSpoken(this.deps.metrics, this.voiceId, { phrases: 1, audioMs, synthesisMs: audio.synthesisMs });
  }

  private finish(): void {
    this.outbox.send({ type: 'done', stats: { ...this.stats } });
    this.close(CloseCode.normal, 'done');
  }

  /** Closing or closed: nothing more reaches the client. */
  private get gone(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  private get voiceId(): string {
    return this.settings?.voice.info.id ?? 'none';
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
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.run && !this.run.idle) this.cancel();
    this.sendError(error, true);
    this.close(error.closeCode, error.code);
  }

  private close(code: number, reason: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.stopTimers();
    this.run?.cancel();
    this.wireSubscription?.unsubscribe();
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
    this.readWatch.stop();
    clearTimeout(this.drainTimer);
  }

  /** The socket is closed (by either side): release everything. */
  private released(code: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimers();
    this.run?.cancel();
    this.wireSubscription?.unsubscribe();
    // Nothing encodes any more: the run and the wire are stopped.
    this.settings?.wire.release();
    this.outbox.wake();
    this.log.info({ code, phrases: this.stats.phrases, audioMs: Math.round(this.stats.audioMs) }, 'session closed');
    this.deps.onClosed();
    this.resolveClosed();
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
