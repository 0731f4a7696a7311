// One phone call: a Twilio Media Streams WebSocket (bidirectional, <Connect><Stream>)
// joined to one emomix session speaking G.711 μ-law at 8 kHz, the call's own
// format, so audio passes through untouched: each 160-byte packet from the
// server is one Twilio `media` message.
//
// Twilio sends `connected`, `start`, `media` (the caller's audio), `mark` (when a
// mark we sent has been played) and `stop`; we send `media`, `mark` and `clear`.
// Barge-in: when the caller talks over the bot, the bridge sends `clear` (Twilio
// drops the audio it has buffered) and `cancel` to the session, so speech stops
// at once and the text not yet heard is reported.
import type { WebSocket } from 'ws';
import { mulawToInt16 } from '../../src/stream/mulaw.js';
import type { EmotionWeights, ServerMessage } from '../../src/protocol/index.js';
import { parseEmotion } from '../../src/cli/speak/args.js';
import { Connection } from '../../src/client/connection.js';

export interface BridgeOptions {
  /** The emomix stream endpoint, ws://HOST:PORT/v1/stream. */
  emomixUrl: string;
  token?: string;
  voice?: string;
  emotion?: EmotionWeights;
  /** Said as soon as the call starts (Twilio's `<Parameter name="greeting">` wins). */
  greeting?: string;
  /** Caller level (RMS of 16-bit samples) that counts as speech, and for how many 20 ms frames in a row. */
  bargeIn?: { level: number; frames: number } | false;
}

export interface BridgeEvents {
  /** Twilio's `start` arrived (callSid and streamSid are known) and the session is open. */
  started?(): void;
  /** A phrase has been played to the caller (Twilio echoed its mark). */
  heard?(text: string): void;
  /** The caller barged in: what was being played and the text never spoken. */
  interrupted?(cut: { phrases: string[]; text: string }): void;
  /** The session refused something or failed a phrase. */
  error?(code: string, message: string): void;
  /** The call and its session are over. */
  closed?(): void;
}

type TwilioMessage =
  | { event: 'connected' }
  | { event: 'start'; streamSid: string; start: { callSid: string; customParameters?: Record<string, string> } }
  | { event: 'media'; media: { track?: string; payload: string } }
  | { event: 'mark'; mark: { name: string } }
  | { event: 'stop' }
  | { event: 'dtmf' };

const DEFAULT_BARGE_IN = { level: 2000, frames: 3 };

export class TwilioBridge {
  streamSid: string | undefined;
  callSid: string | undefined;
  private session: Connection | undefined;
  private readonly phrases = new Map<number, string>();
  /** Phrases whose audio went to Twilio and whose mark has not come back: being played. */
  private readonly playing = new Set<number>();
  private lastPhrase: number | undefined;
  /** Phrases Twilio was still to play when a barge-in cleared its buffer. */
  private cutShort: number[] = [];
  /** After a barge-in, audio already on its way from the server is dropped until `cancelled`. */
  private dropping = false;
  private loudFrames = 0;
  private ended = false;

  constructor(
    private readonly twilio: WebSocket,
    private readonly options: BridgeOptions,
    private readonly events: BridgeEvents = {},
  ) {
    twilio.on('message', (data) => this.fromTwilio(data.toString()));
    twilio.on('close', () => this.close());
  }

  /** Speaks a text (an LLM's answer, say) after whatever is still being said. */
  say(text: string): void {
    this.session?.send({ type: 'text', text });
    // Speak it all now, without waiting for more text to end a sentence.
    this.session?.send({ type: 'flush' });
  }

  /** Changes the emotion mix of the phrases not yet synthesized. */
  setEmotion(weights: EmotionWeights, rampMs = 0): void {
    this.session?.send({ type: 'emotion', weights, rampMs });
  }

  /** Stops speaking at once: Twilio drops its buffer, the session cancels the rest. */
  interrupt(): void {
    if (!this.session || this.dropping) return;
    this.dropping = true;
    this.session.send({ type: 'cancel' });
    this.toTwilio({ event: 'clear', streamSid: this.streamSid });
    // Twilio returns the pending marks after a clear; those phrases were not (all) heard.
    this.cutShort = [...this.playing];
    this.playing.clear();
  }

  private fromTwilio(text: string): void {
    let message: TwilioMessage;
    try {
      message = JSON.parse(text) as TwilioMessage;
    } catch {
      return;
    }
    switch (message.event) {
      case 'start':
        void this.open(message);
        break;
      case 'media':
        if (message.media.track !== 'outbound') this.listen(message.media.payload);
        break;
      case 'mark': {
        const id = Number(message.mark.name.replace(/^phrase-/, ''));
        if (this.playing.delete(id)) this.events.heard?.(this.phrases.get(id) ?? '');
        this.phrases.delete(id);
        break;
      }
      case 'stop':
        this.twilio.close();
        break;
    }
  }

  private async open(message: Extract<TwilioMessage, { event: 'start' }>): Promise<void> {
    this.streamSid = message.streamSid;
    this.callSid = message.start.callSid;
    const params = message.start.customParameters ?? {};
    try {
      this.session = await Connection.open(this.options.emomixUrl, { token: this.options.token });
    } catch (error) {
      this.events.error?.('connect_failed', (error as Error).message);
      this.twilio.close();
      return;
    }
    if (this.ended) return this.session.close();
    const seed = params.seed === undefined ? undefined : Number(params.seed);
    let emotion = this.options.emotion;
    try {
      if (params.emotion) emotion = parseEmotion(params.emotion);
    } catch (error) {
      this.events.error?.('invalid_weights', (error as Error).message);
    }
    this.session.send({
      type: 'start',
      format: 'mulaw',
      // Twilio plays what it receives; real-time pacing keeps its buffer (and a barge-in's loss) small.
      pacing: 'realtime',
      ...(this.options.voice ? { voice: this.options.voice } : {}),
      ...(emotion ? { emotion } : {}),
      ...(seed !== undefined && Number.isInteger(seed) ? { seed } : {}),
    });
    this.events.started?.();
    const greeting = params.greeting ?? this.options.greeting;
    if (greeting) this.say(greeting);
    void this.relay(this.session);
  }

  private async relay(session: Connection): Promise<void> {
    for await (const message of session) this.fromSession(message);
    this.close();
  }

  private fromSession(message: ServerMessage): void {
    switch (message.type) {
      case 'phrase':
        if (this.dropping) return;
        this.markEnd();
        this.phrases.set(message.id, message.text);
        this.lastPhrase = message.id;
        break;
      case 'audio':
        if (this.dropping) return;
        this.playing.add(message.phrase);
        for (const packet of message.packets) this.toTwilio({ event: 'media', streamSid: this.streamSid, media: { payload: Buffer.from(packet).toString('base64') } });
        break;
      case 'flushed':
        if (!this.dropping) this.markEnd();
        break;
      case 'cancelled': {
        this.dropping = false;
        this.lastPhrase = undefined;
        const cut = [...new Set([...this.cutShort, ...message.phrases])].sort((a, b) => a - b);
        this.cutShort = [];
        this.events.interrupted?.({ phrases: cut.map((id) => this.phrases.get(id) ?? ''), text: message.text });
        this.phrases.clear();
        break;
      }
      case 'error':
        this.events.error?.(message.code, message.message);
        break;
    }
  }

  /** All of the latest phrase's audio has gone out: ask Twilio to tell us when it has been played. */
  private markEnd(): void {
    if (this.lastPhrase === undefined) return;
    this.toTwilio({ event: 'mark', streamSid: this.streamSid, mark: { name: `phrase-${this.lastPhrase}` } });
    this.lastPhrase = undefined;
  }

  /** The caller's audio: loud enough for long enough while the bot is speaking is a barge-in. */
  private listen(payload: string): void {
    const bargeIn = this.options.bargeIn === undefined ? DEFAULT_BARGE_IN : this.options.bargeIn;
    if (!bargeIn || this.playing.size === 0 || this.dropping) {
      this.loudFrames = 0;
      return;
    }
    const samples = mulawToInt16(Buffer.from(payload, 'base64'));
    const rms = Math.sqrt(samples.reduce((sum, v) => sum + v * v, 0) / Math.max(1, samples.length));
    this.loudFrames = rms >= bargeIn.level ? this.loudFrames + 1 : 0;
    if (this.loudFrames >= bargeIn.frames) {
      this.loudFrames = 0;
      this.interrupt();
    }
  }

  private toTwilio(message: Record<string, unknown>): void {
    if (this.twilio.readyState === this.twilio.OPEN) this.twilio.send(JSON.stringify(message));
  }

  private close(): void {
    if (this.ended) return;
    this.ended = true;
    this.session?.close();
    if (this.twilio.readyState === this.twilio.OPEN) this.twilio.close();
    this.events.closed?.();
  }
}
