// The LiveKit Agents TTS: `stream()` for LLM output as it arrives,
// `synthesize()` for whole texts, each backed by one emomix protocol session.
import { type APIConnectOptions, APIError, DEFAULT_API_CONNECT_OPTIONS, tts } from '@livekit/agents';
import type { Weights } from './protocol.js';
import { EmomixSession, type SessionSettings } from './session.js';
import { Speech, type SpeechOutcome } from './speech.js';

export interface TTSOptions {
  /** The server's stream endpoint, `ws://host:port/v1/stream`. Default: `$EMOMIX_URL`. */
  url: string;
  /** The server's auth token, sent as a bearer token. Default: `$EMOMIX_TOKEN`. */
  apiKey?: string;
  /** A voice id from the server's `GET /v1/voices`; default the server's default voice. */
  voice?: string;
  /** The emotion mix a turn starts with: an emotion name, or names with weights (`{ happy: 0.7, surprise: 0.3 }`). */
  emotion?: string | Weights;
  /** Diffusion steps per phrase (more is slower and cleaner); default the voice's. */
  steps?: number;
  /** Speaking rate, 0.25–4; default the voice's own pace. */
  speed?: number;
  /** Makes synthesis reproducible: the same text, cut the same way, gives the same audio. */
  seed?: number;
  /** Milliseconds of audio over which an `updateOptions` emotion change glides in (0: at once). */
  rampMs?: number;
  /** The frames' sample rate: 8000, 16000, 24000 or 48000 (default), converted by the server. */
  sampleRate?: 8000 | 16000 | 24000 | 48000;
}

const SAMPLE_RATES: readonly number[] = [8000, 16000, 24000, 48000];

function weightsOf(emotion: string | Weights | undefined): Weights | undefined {
  return typeof emotion === 'string' ? { [emotion]: 1 } : emotion;
}

function checked(opts: Partial<TTSOptions>): Partial<TTSOptions> {
  if (opts.url !== undefined && !/^wss?:\/\//.test(opts.url)) throw new TypeError(`emomix TTS: url must be ws:// or wss://, got ${opts.url}`);
  if (opts.speed !== undefined && !(opts.speed >= 0.25 && opts.speed <= 4)) throw new RangeError(`emomix TTS: speed must be within 0.25–4, got ${opts.speed}`);
  if (opts.steps !== undefined && !(Number.isInteger(opts.steps) && opts.steps >= 1)) throw new RangeError(`emomix TTS: steps must be a positive integer, got ${opts.steps}`);
  if (opts.sampleRate !== undefined && !SAMPLE_RATES.includes(opts.sampleRate)) throw new RangeError(`emomix TTS: sampleRate must be one of ${SAMPLE_RATES.join(', ')}, got ${opts.sampleRate}`);
  if (opts.rampMs !== undefined && !(opts.rampMs >= 0 && opts.rampMs <= 600_000)) throw new RangeError(`emomix TTS: rampMs must be within 0–600000, got ${opts.rampMs}`);
  const weights = weightsOf(opts.emotion);
  if (weights !== undefined) {
    const values = Object.values(weights);
    if (values.length === 0 || values.some((w) => !(Number.isFinite(w) && w >= 0)) || !values.some((w) => w > 0)) {
      throw new RangeError('emomix TTS: emotion weights must be finite, not negative, and not all zero');
    }
  }
  return opts;
}

export class TTS extends tts.TTS {
  label = 'emomix.TTS';
  #opts: TTSOptions;
  readonly #live = new Set<SynthesizeStream>();

  constructor(opts: Partial<TTSOptions> = {}) {
    super(checked(opts).sampleRate ?? 48_000, 1, { streaming: true, alignedTranscript: true });
    const url = opts.url ?? process.env['EMOMIX_URL'];
    if (!url) throw new TypeError('emomix TTS: url is required, as an option or as $EMOMIX_URL (ws://host:port/v1/stream)');
    this.#opts = { apiKey: process.env['EMOMIX_TOKEN'], ...checked({ ...opts, url }), url, sampleRate: this.sampleRate } as TTSOptions;
  }

  override get model(): string {
    return this.#opts.voice ?? 'default';
  }

  override get provider(): string {
    return 'emomix';
  }

  /**
   * LiveKit's markup hook. emomix reads discrete expressions, so it speaks the
   * dialect with a fixed expression vocabulary (Cartesia's): give the LLM
   * `tts.markup.llmInstructions()` and its `<expr type="expression" .../>`
   * markers become emotion mixes (see MOOD_EMOTIONS).
   */
  protected override markupProviderKey(): string {
    return 'cartesia';
  }

  /** The options new streams start with. */
  get options(): Readonly<TTSOptions> {
    return this.#opts;
  }

  /**
   * Changes the options of later streams. An emotion change also reaches the
   * streams speaking now, from the point their text has reached (gliding over
   * `rampMs`); voice, steps, speed and seed are fixed for a session.
   */
  updateOptions(opts: Partial<Omit<TTSOptions, 'sampleRate'>>): void {
    this.#opts = { ...this.#opts, ...checked(opts) };
    if (opts.emotion !== undefined) for (const stream of this.#live) stream.updateOptions({ emotion: opts.emotion, rampMs: opts.rampMs });
  }

  synthesize(text: string, connOptions?: APIConnectOptions, abortSignal?: AbortSignal): ChunkedStream {
    return new ChunkedStream(this, text, this.#opts, connOptions, abortSignal);
  }

  stream(options?: { connOptions?: APIConnectOptions }): SynthesizeStream {
    const stream = new SynthesizeStream(this, this.#opts, options?.connOptions);
    this.#live.add(stream);
    void stream.outcome.then(
      () => this.#live.delete(stream),
      () => this.#live.delete(stream),
    );
    return stream;
  }

  override async close(): Promise<void> {
    for (const stream of this.#live) stream.close();
    await super.close();
  }
}

function settingsOf(opts: TTSOptions): SessionSettings {
  const { url, apiKey, sampleRate, voice, steps, speed, seed } = opts;
  return { url, apiKey, sampleRate, voice, steps, speed, seed, emotion: weightsOf(opts.emotion) };
}

/**
 * The outcome of a stream's session, settled from outside. LiveKit retries a
 * run that fails with a retryable error (only failures to connect are), so such
 * a failure settles nothing until the last attempt.
 */
class Outcome {
  readonly promise: Promise<SpeechOutcome>;
  resolve!: (value: SpeechOutcome) => void;
  reject!: (error: unknown) => void;
  private attempts = 0;

  constructor(private readonly connOptions: APIConnectOptions) {
    this.promise = new Promise<SpeechOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => undefined);
  }

  /** Records a failed attempt; the outcome fails once LiveKit will not try again. */
  failed(error: unknown): void {
    const retried = error instanceof APIError && error.retryable && this.attempts < this.connOptions.maxRetry;
    this.attempts++;
    if (!retried) this.reject(error);
  }
}

/**
 * Runs one session for a stream: opens it, lets `feed` send the text, emits
 * the audio, and on abort cancels on the server and waits for its account of
 * what was not spoken.
 */
async function speak(
  opts: TTSOptions,
  connOptions: APIConnectOptions,
  signal: AbortSignal,
  emit: (audio: tts.SynthesizedAudio) => void,
  started: (speech: Speech) => void,
  feed: (speech: Speech) => Promise<void>,
): Promise<SpeechOutcome> {
  const session = await EmomixSession.open(settingsOf(opts), connOptions.timeoutMs, signal);
  const speech = new Speech(
    session,
    (audio) => {
      if (!signal.aborted) emit(audio);
    },
    opts.rampMs ?? 0,
  );
  started(speech);
  const onAbort = (): void => speech.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) speech.cancel();
  try {
    const [outcome] = await Promise.all([speech.receive(), feed(speech)]);
    return outcome;
  } catch (error) {
    session.close();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export class SynthesizeStream extends tts.SynthesizeStream {
  label = 'emomix.SynthesizeStream';
  #opts: TTSOptions;
  #speech: Speech | undefined;
  #outcome: Outcome;

  constructor(ttsInstance: TTS, opts: TTSOptions, connOptions: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) {
    super(ttsInstance, connOptions);
    this.#opts = opts;
    this.#outcome = new Outcome(connOptions);
  }

  /** Where the text went (spoken, cancelled, failed), once the session is over; rejects when it failed. */
  get outcome(): Promise<SpeechOutcome> {
    return this.#outcome.promise;
  }

  /** Changes the emotion from the point the text has reached; other options apply to the next stream. */
  updateOptions({ emotion, rampMs }: Pick<Partial<TTSOptions>, 'emotion' | 'rampMs'>): void {
    checked({ emotion, rampMs });
    if (rampMs !== undefined) this.#opts = { ...this.#opts, rampMs };
    if (emotion === undefined) return;
    this.#opts = { ...this.#opts, emotion };
    this.#speech?.setEmotion(weightsOf(emotion)!, this.#opts.rampMs ?? 0);
  }

  protected async run(): Promise<void> {
    const opts = this.#opts;
    try {
      const outcome = await speak(
        opts,
        this.connOptions,
        this.abortSignal,
        (audio) => this.queue.put(audio),
        (speech) => {
          this.#speech = speech;
          // An update that came while connecting was not in `start`.
          if (this.#opts.emotion !== opts.emotion) speech.setEmotion(weightsOf(this.#opts.emotion)!);
        },
        async (speech) => {
          for await (const data of this.input) {
            if (data === tts.SynthesizeStream.FLUSH_SENTINEL) speech.flush();
            else if (speech.push(data)) this.markStarted();
          }
          if (!this.abortSignal.aborted) speech.end();
        },
      );
      if (!this.abortSignal.aborted) this.queue.put(tts.SynthesizeStream.END_OF_STREAM);
      this.#outcome.resolve(outcome);
    } catch (error) {
      this.#outcome.failed(error);
      if (!this.abortSignal.aborted) throw error;
    }
  }

  protected override onStreamDone(): void {
    this.#outcome.reject(new Error('emomix: the stream ended before its session opened'));
  }
}

export class ChunkedStream extends tts.ChunkedStream {
  label = 'emomix.ChunkedStream';
  #opts: TTSOptions;
  #connOptions: APIConnectOptions;
  #outcome: Outcome;

  constructor(ttsInstance: TTS, text: string, opts: TTSOptions, connOptions = DEFAULT_API_CONNECT_OPTIONS, abortSignal?: AbortSignal) {
    super(text, ttsInstance, connOptions, abortSignal);
    this.#opts = opts;
    this.#connOptions = connOptions;
    this.#outcome = new Outcome(connOptions);
  }

  /** Where the text went (spoken, cancelled, failed), once the session is over. */
  get outcome(): Promise<SpeechOutcome> {
    return this.#outcome.promise;
  }

  protected async run(): Promise<void> {
    try {
      const outcome = await speak(
        this.#opts,
        this.#connOptions,
        this.abortSignal,
        (audio) => this.queue.put(audio),
        () => undefined,
        async (speech) => {
          speech.push(this.inputText);
          speech.end();
        },
      );
      this.#outcome.resolve(outcome);
    } catch (error) {
      this.#outcome.failed(error);
      if (!this.abortSignal.aborted) throw error;
    }
  }
}
