// One take: a session from Play to `done`. It registers the custom emotions,
// sends the text whole or token by token, and routes what comes back to the
// player, the transcript and the chart, timing each phrase's first audio.
// Audio is paced at real time, so synthesis stays a phrase or two ahead of
// playback and an emotion change is heard from the next phrase; the session
// ends (`end`) only once everything is spoken, as emotion updates stop there.
import { Connection } from './connection.js';
import { sendPaced, tokenize } from './tokens.js';

const isSpace = (/** @type {string} */ c) => /\s/.test(c);

/**
 * @typedef {object} TakeEvents
 * @property {(message: string) => void} status
 * @property {(message: string) => void} error
 * @property {(name: string) => void} emotionAdded
 * @property {(ms: number) => void} firstAudio from the first text sent
 * @property {(stats: { realTimeFactor: number }) => void} done
 */

/**
 * @typedef {object} TakeOptions
 * @property {string} url
 * @property {string} token
 * @property {Record<string, unknown>} start fields of `start` besides the emotion
 * @property {string} text empty to only register `references`
 * @property {'whole' | 'stream'} mode
 * @property {() => number} rate tokens per second, in stream mode
 * @property {() => Record<string, number>} weights the mix now
 * @property {Map<string, Uint8Array>} references custom emotions: name → WAV
 * @property {import('./player.js').Player} player
 * @property {import('./transcript.js').Transcript} transcript
 * @property {import('./chart.js').MixChart} chart
 * @property {TakeEvents} events
 */

export class Take {
  /** @param {TakeOptions} options */
  constructor(options) {
    this.o = options;
    /** @type {Connection | undefined} */
    this.connection = undefined;
    this.pacing = new AbortController();
    this.sending = false;
    this.endSent = false;
    this.flushesPending = 0;
    /** The text is all sent: end once the flushes in flight are answered. */
    this.finishing = false;
    /** Between our `cancel` and the server's `cancelled`: what arrives is the speech being cut. */
    this.cancelling = false;
    this.cancelled = false;
    /** @type {(ready: any) => void} */
    this.onReady = () => {};
    this.started = false;
    /** References sent and not yet answered, oldest first. @type {{ name: string, resolve: () => void, reject: (e: Error) => void }[]} */
    this.registering = [];
    // For latency: when each word of the text was complete (followed by a space, or the end).
    /** @type {number[]} */
    this.wordDoneAt = [];
    this.lastSent = ' ';
    this.wordsAnnounced = 0;
    /** @type {number | undefined} */
    this.firstTextAt = undefined;
    /** Phrases awaiting their first audio: id → when their text was complete. @type {Map<number, number>} */
    this.awaitingAudio = new Map();
    this.heardFirst = false;
    /** When the latest audio message arrived. @type {number | undefined} */
    this.lastAudioAt = undefined;
  }

  /** Runs the session; resolves when it has closed. */
  async run() {
    const { o } = this;
    const connection = await Connection.open(o.url, o.token);
    this.connection = connection;
    const closed = new Promise((resolve) => {
      connection.onclose = (event) => {
        for (const pending of this.registering.splice(0)) pending.reject(new Error('the connection closed'));
        resolve(event);
      };
    });
    connection.onmessage = (message) => this.receive(message);
    const ready = new Promise((resolve) => (this.onReady = resolve));
    const weights = o.weights();
    const builtIn = Object.fromEntries(Object.entries(weights).filter(([name]) => !o.references.has(name)));
    connection.send({ type: 'start', pacing: 'realtime', ...o.start, ...(Object.keys(builtIn).length > 0 ? { emotion: builtIn } : {}) });
    if (await Promise.race([ready, closed.then(() => null)])) {
      await this.prepare(weights);
      if (!o.text) this.end();
      else {
        await this.sendText();
        this.sending = false;
        this.textComplete();
        this.finishing = true;
        this.flush();
      }
    }
    await closed;
    this.sending = false;
  }

  /** Speak what was sent so far without waiting for a sentence end. */
  flush() {
    if (!this.connection?.open || this.endSent) return;
    // A flush makes the word being sent a complete one.
    this.textComplete();
    this.flushesPending++;
    this.connection.send({ type: 'flush' });
  }

  /** Barge-in: silence now, drop what is not yet spoken, end the take. */
  cancel() {
    this.pacing.abort();
    this.o.player.stop();
    this.cancelled = true;
    if (this.connection?.open && !this.cancelling) {
      this.cancelling = true;
      this.connection.send({ type: 'cancel' });
      this.end();
    }
  }

  /**
   * @param {Record<string, number>} weights
   * @param {number} rampMs
   */
  emotion(weights, rampMs) {
    if (this.connection?.open && !this.endSent) this.connection.send({ type: 'emotion', weights, rampMs });
  }

  /**
   * Registers a custom emotion in this session.
   * @param {string} name
   * @param {Uint8Array} audio a WAV file
   * @returns {Promise<void>}
   */
  addReference(name, audio) {
    if (!this.connection?.open) return Promise.reject(new Error('the connection closed'));
    const connection = this.connection;
    return new Promise((resolve, reject) => {
      this.registering.push({ name, resolve, reject });
      connection.send({ type: 'reference', name, audio });
    });
  }

  /** @param {Record<string, number>} weights */
  async prepare(weights) {
    const { o } = this;
    if (o.text) {
      o.transcript.reset();
      o.chart.reset();
    }
    for (const [name, audio] of o.references) {
      try {
        await this.addReference(name, audio);
      } catch (error) {
        o.events.error(`The emotion “${name}” was not added: ${/** @type {Error} */ (error).message}`);
      }
    }
    // The start message could not name custom emotions: they did not exist yet.
    if (Object.keys(weights).some((name) => o.references.has(name))) this.emotion(weights, 0);
  }

  async sendText() {
    const { o } = this;
    this.sending = true;
    o.events.status(o.mode === 'stream' ? 'Streaming the text…' : 'Speaking…');
    if (o.mode === 'whole') this.sendPiece(o.text);
    else await sendPaced(tokenize(o.text), o.rate, (token) => this.sendPiece(token), this.pacing.signal);
  }

  /** @param {string} text */
  sendPiece(text) {
    if (this.endSent) return;
    const now = performance.now();
    this.firstTextAt ??= now;
    this.connection?.send({ type: 'text', text });
    const joined = this.lastSent + text;
    for (let i = 1; i < joined.length; i++) if (!isSpace(joined[i - 1]) && isSpace(joined[i])) this.wordDoneAt.push(now);
    this.lastSent = joined.at(-1) ?? this.lastSent;
  }

  end() {
    if (this.endSent) return;
    this.endSent = true;
    this.sending = false;
    this.textComplete();
    this.connection?.send({ type: 'end' });
  }

  textComplete() {
    if (!isSpace(this.lastSent)) this.wordDoneAt.push(performance.now());
    this.lastSent = ' ';
  }

  /** @param {any} m a server message */
  receive(m) {
    const { o } = this;
    switch (m.type) {
      case 'ready':
        this.started = true;
        if (o.text) o.player.begin(m);
        this.onReady(m);
        break;
      case 'phrase': {
        if (this.cancelling) break;
        o.player.phrase(m);
        o.transcript.add(m);
        o.chart.add(m);
        this.wordsAnnounced += m.text.split(/\s+/).filter(Boolean).length;
        this.awaitingAudio.set(m.id, this.wordDoneAt[this.wordsAnnounced - 1] ?? performance.now());
        break;
      }
      case 'audio': {
        if (this.cancelling) break;
        const now = performance.now();
        const textDoneAt = this.awaitingAudio.get(m.phrase);
        if (textDoneAt !== undefined) {
          if (!this.heardFirst) o.events.firstAudio(now - (this.firstTextAt ?? now));
          this.heardFirst = true;
          // A phrase's audio can start once its text is in and the phrase before it is out.
          o.transcript.latency(m.phrase, now - Math.max(textDoneAt, this.lastAudioAt ?? textDoneAt));
          this.awaitingAudio.delete(m.phrase);
        }
        this.lastAudioAt = now;
        o.player.audio(m);
        break;
      }
      case 'flushed':
        this.flushesPending--;
        if (!this.finishing) o.events.status('Flushed: everything sent so far has been spoken.');
        else if (this.flushesPending === 0) this.end();
        break;
      case 'cancelled':
        this.cancelling = false;
        o.transcript.cancelled(m.phrases);
        o.events.status(m.text ? `Cancelled; never spoken: “${m.text}”` : 'Cancelled.');
        break;
      case 'emotionAdded': {
        const index = this.registering.findIndex((r) => r.name === m.name);
        if (index >= 0) this.registering.splice(index, 1)[0].resolve();
        o.events.emotionAdded(m.name);
        break;
      }
      case 'error':
        if (!this.started) {
          // The server refused the start and waits for another: this take is over (Play is usable again).
          o.events.error(`${m.code}: ${m.message}`);
          this.connection?.close();
          break;
        }
        // An error names no reference: it is charged to the oldest one waiting.
        if (this.registering.length > 0 && (m.field === 'audio' || m.field === 'name')) this.registering.shift()?.reject(new Error(m.message));
        else o.events.error(`${m.code}: ${m.message}`);
        break;
      case 'done':
        o.events.done(m.stats);
        if (!this.cancelled) o.events.status('Done.');
        break;
    }
  }
}
