// Session on its own: a fake voice (each word 4,000 samples of audio, a phrase with
// "explode" in it fails, one with "slowly" waits for the test) and a fake socket
// that records every message and writes only when the test lets it. No server, no
// inference: each test drives the protocol message by message and checks what the
// client would receive.
import { EventEmitter } from 'node:events';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { createPhraseSegmenter } from '../src/pipeline/segmenter.js';
import { checkedMix } from '../src/pipeline/synthesis/index.js';
import { CloseCode, type ServerMessage } from '../src/protocol/index.js';
import { FIRST_GUESS_MS_PER_CHARACTER } from '../src/server/expected-audio.js';
import { createLogger } from '../src/server/logger.js';
import { createMetrics } from '../src/server/metrics.js';
import { RepeatLog } from '../src/server/repeat-log.js';
import { Session, type SessionLimits } from '../src/server/session/session.js';
import { ProtocolError, ErrorCode } from '../src/protocol/index.js';
import { FakeEngine, fakeVoice, SAMPLES_PER_WORD } from './fake-voice.js';
import { OpusEncoderPool } from '../src/stream/opus.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const FRAME_SAMPLES = 960;

type Message = ServerMessage & Record<string, any>;

/** The socket's side of ws that a session uses; `writing` false holds every write until write(). */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  readonly messages: Message[] = [];
  closedWith: { code: number; reason: string } | undefined;
  writing = true;
  private unwritten: (() => void)[] = [];

  send(bytes: Uint8Array, _options: unknown, written: () => void): void {
    this.messages.push(packr.unpack(bytes) as Message);
    if (this.writing) setImmediate(written);
    else this.unwritten.push(written);
  }

  /** Writes what was held and goes on writing. */
  write(): void {
    this.writing = true;
    for (const written of this.unwritten.splice(0)) written();
  }

  /** A client that reads answers pings. */
  ping(): void {
    setImmediate(() => this.emit('pong'));
  }

  close(code: number, reason: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.closedWith = { code, reason };
    setImmediate(() => this.emit('close', code));
  }

  terminate(): void {
    this.close(1006, '');
  }

  /** A client message, as a binary frame. */
  receive(message: Record<string, unknown>): void {
    this.emit('message', packr.pack(message), true);
  }

  of<T extends Message['type']>(type: T): Extract<Message, { type: T }>[] {
    return this.messages.filter((m) => m.type === type) as Extract<Message, { type: T }>[];
  }
}

const LIMITS: SessionLimits = {
  maxBufferedText: 2000,
  maxMessageBytes: 65_536,
  maxSteps: 16,
  maxMessagesPerSecond: 1000,
  idleTimeoutMs: 5000,
  highWaterBytes: 1 << 20,
  firstAudioGraceMs: 0,
  chunkMs: 100,
  pacing: 'asap',
};

const sessions: Session[] = [];

function setup(limits: Partial<SessionLimits> = {}) {
  const socket = new FakeSocket();
  const engine = new FakeEngine();
  const voice = fakeVoice(engine);
  const logger = createLogger('silent');
  const metrics = createMetrics();
  let closed = 0;
  const session = new Session({
    id: 's1',
    instance: 'test',
    socket: socket as unknown as WebSocket,
    voices: {
      resolve: (id?: string) => {
        if (id === undefined || id === 'fake') return voice;
        throw new ProtocolError(ErrorCode.unknownVoice, `unknown voice "${id}"`, 'voice');
      },
    },
    limits: { ...LIMITS, ...limits },
    logger,
    metrics,
    createSegmenter: () => createPhraseSegmenter(),
    encoders: new OpusEncoderPool({ bitrate: 32_000 }),
    failures: new RepeatLog(logger),
    onClosed: () => closed++,
  });
  sessions.push(session);
  const until = async (predicate: () => boolean, ms = 2000): Promise<void> => {
    const end = performance.now() + ms;
    while (!predicate()) {
      if (performance.now() > end) throw new Error(`timed out; messages: ${socket.messages.map((m) => m.type).join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const closedNow = () => socket.closedWith !== undefined;
  return { socket, engine, voice, session, metrics, until, closedNow, closedCount: () => closed };
}

/** Samples per phrase id, from the `audio` messages (pcm16: 2 bytes a sample). */
function samplesByPhrase(messages: Message[]): Map<number, number> {
  const samples = new Map<number, number>();
  for (const m of messages) {
    if (m.type !== 'audio') continue;
    const bytes = m.packets.reduce((n: number, p: Uint8Array) => n + p.length, 0);
    samples.set(m.phrase, (samples.get(m.phrase) ?? 0) + bytes / 2);
  }
  return samples;
}

const padded = (samples: number): number => Math.ceil(samples / FRAME_SAMPLES) * FRAME_SAMPLES;
const words = (text: string): number => (text.match(/[A-Za-z']+/g) ?? []).length;

afterEach(() => {
  for (const s of sessions.splice(0)) s.terminate();
});

describe('Session with a fake voice', () => {
  it('synthesizes the next phrase while an earlier one is still synthesizing, and delivers each in order with its own audio', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16', emotion: { happy: 1 } });
    socket.receive({ type: 'text', text: 'The first sentence goes slowly here. Then a quick second one. ' });
    socket.receive({ type: 'end' });
    await until(() => engine.texts.length === 2);
    // The second started before the first finished. Before any audio went out the first is
    // wanted now; the second when the first would have played, its length guessed from its text.
    expect(engine.waiting).toBe(1);
    const [first, second] = engine.requests.map((r) => r.deadline!);
    expect(second! - first!).toBeGreaterThanOrEqual('The first sentence goes slowly here.'.length * FIRST_GUESS_MS_PER_CHARACTER - 5);
    expect(checkedMix(engine.requests[1]!.weights)).toEqual(checkedMix({ happy: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(socket.of('phrase')).toHaveLength(0);
    engine.release();
    await until(() => socket.closedWith !== undefined);

    const phrases = socket.of('phrase');
    expect(phrases.map((p) => p.text)).toEqual(['The first sentence goes slowly here.', 'Then a quick second one.']);
    const samples = samplesByPhrase(socket.messages);
    let startMs = 0;
    for (const p of phrases) {
      const spoken = words(p.text) * SAMPLES_PER_WORD;
      expect(samples.get(p.id)).toBe(padded(spoken));
      expect(p.startMs).toBeCloseTo(startMs, 6);
      startMs += (padded(spoken) * 1000) / 48_000;
    }
    expect(socket.of('audio').map((a) => a.phrase)).toEqual([...socket.of('audio').map((a) => a.phrase)].sort((a, b) => a - b));
  });

  it('has a silent listener\'s audio due the first-audio grace from now, and a listener still hearing audio due where it will run out', async () => {
    const { socket, engine, until } = setup({ firstAudioGraceMs: 400 });
    socket.receive({ type: 'start', format: 'pcm16' });
    const twelve = 'One two three four five six seven eight nine ten eleven twelve. ';
    let sent = performance.now();
    socket.receive({ type: 'text', text: twelve });
    socket.receive({ type: 'flush' });
    await until(() => socket.of('phrase').length === 1 && socket.of('audio').length > 0);
    const firstAudioAt = performance.now();
    // A new session: due once the grace has passed, though nothing else waits.
    expect(engine.requests[0]!.deadline!).toBeGreaterThanOrEqual(sent + 400);
    expect(engine.requests[0]!.deadline!).toBeLessThan(firstAudioAt + 400);
    // A new turn while the first one's second of audio plays: due where that audio runs out.
    socket.receive({ type: 'text', text: 'Then one more. ' });
    socket.receive({ type: 'flush' });
    await until(() => engine.requests.length === 2);
    const heard = engine.requests[1]!.deadline! - firstAudioAt;
    expect(heard).toBeGreaterThan(1000 - 50);
    expect(heard).toBeLessThan(1000 + 5);
    // A turn after all of it has played out: silent again, due after the grace.
    await until(() => socket.of('phrase').length === 2);
    await new Promise((resolve) => setTimeout(resolve, 1000 + (3 * SAMPLES_PER_WORD * 1000) / 48_000 + 100));
    sent = performance.now();
    socket.receive({ type: 'text', text: 'And a last one. ' });
    socket.receive({ type: 'flush' });
    await until(() => engine.requests.length === 3);
    expect(engine.requests[2]!.deadline! - sent).toBeGreaterThanOrEqual(400);
    expect(engine.requests[2]!.deadline! - sent).toBeLessThan(400 + 50);
  });

  it('speaks a short opening with the sentence after it while text flows, and alone once the text stops', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    for (const word of "Enough! I won't hear another word. Then ".split(/(?<= )/)) {
      socket.receive({ type: 'text', text: word });
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await until(() => engine.texts.length === 1);
    expect(engine.texts).toEqual(["Enough! I won't hear another word."]);

    const second = setup();
    second.socket.receive({ type: 'start', format: 'pcm16' });
    const sent = performance.now();
    second.socket.receive({ type: 'text', text: 'Hello there. ' });
    await second.until(() => second.engine.texts.length === 1);
    // The text stopped after it: spoken alone once 250 ms passed without more, not held to `end`.
    expect(second.engine.texts).toEqual(['Hello there.']);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(250 - 5);
  });

  it('waits for a phrase that changes the emotion before starting the next, which starts in the new mix', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'text', text: 'The first sentence goes ' });
    socket.receive({ type: 'emotion', weights: { sad: 1 } });
    socket.receive({ type: 'text', text: 'slowly here. Then a quick second one. ' });
    socket.receive({ type: 'end' });
    await until(() => engine.waiting === 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(engine.texts).toHaveLength(1);
    engine.release();
    await until(() => socket.closedWith !== undefined);
    expect(engine.texts).toEqual(['The first sentence goes slowly here.', 'Then a quick second one.']);
    expect(checkedMix(engine.requests[1]!.weights)).toEqual(checkedMix({ sad: 1 }));
    expect(socket.of('phrase').map((p) => p.emotion)).toEqual([{ neutral: 1 }, { sad: 1 }]);
  });

  it('answers start with ready, naming what it will speak with', () => {
    const { socket } = setup();
    socket.receive({ type: 'start', format: 'pcm16', sampleRate: 24_000, speaker: 'bob', steps: 8 });
    expect(socket.messages).toEqual([
      expect.objectContaining({ type: 'ready', session: 's1', instance: 'test', voice: 'fake', speaker: 'bob', format: 'pcm16', sampleRate: 24_000, steps: 8, frameMs: 20, pacing: 'asap' }),
    ]);
    expect(socket.messages[0]!.limits).toEqual({ maxMessageBytes: 65_536, maxBufferedText: 2000, maxSteps: 16 });
  });

  it('speaks every phrase: announced, its audio whole and padded to frames, numbered without gaps, then done', async () => {
    const { socket, engine, until, closedCount } = setup();
    const text = 'The first sentence is here. And a second one follows it! A third, to finish.';
    socket.receive({ type: 'start', format: 'pcm16', seed: 7 });
    socket.receive({ type: 'text', text: text.slice(0, 30) });
    socket.receive({ type: 'text', text: text.slice(30) });
    socket.receive({ type: 'end' });
    await until(() => socket.closedWith !== undefined);

    const phrases = socket.of('phrase');
    expect(phrases.map((p) => p.text).join(' ')).toBe(text);
    expect(phrases.map((p) => p.id)).toEqual([1, 2, 3]);
    const samples = samplesByPhrase(socket.messages);
    let startMs = 0;
    for (const p of phrases) {
      const spoken = words(p.text) * SAMPLES_PER_WORD;
      expect(p.durationMs).toBeCloseTo((spoken * 1000) / 48_000, 6);
      expect(samples.get(p.id)).toBe(padded(spoken));
      // Each phrase starts where the previous one's frames ended on the session timeline.
      expect(p.startMs).toBeCloseTo(startMs, 6);
      startMs += (padded(spoken) * 1000) / 48_000;
      expect(p.words).toHaveLength(words(p.text));
    }
    const audio = socket.of('audio');
    let seq = 0;
    for (const a of audio) {
      expect(a.seq).toBe(seq);
      seq += a.packets.length;
    }
    // Each phrase has its own noise, reproducibly: the seed plus its id.
    expect(engine.requests.map((r) => r.seed)).toEqual([8, 9, 10]);
    const done = socket.of('done')[0]!;
    expect(done.stats).toMatchObject({ phrases: 3, failedPhrases: 0, cancelledPhrases: 0, packets: seq });
    expect(done.stats.audioMs).toBeCloseTo(phrases.reduce((ms, p) => ms + p.durationMs, 0), 6);
    expect(socket.messages.at(-1)!.type).toBe('done');
    expect(socket.closedWith).toEqual({ code: CloseCode.normal, reason: 'done' });
    await until(() => closedCount() === 1);
  });

  it('flush speaks what was sent so far, then says flushed; the session goes on', async () => {
    const { socket, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'text', text: 'Half a sentence with no end' });
    socket.receive({ type: 'flush' });
    await until(() => socket.of('flushed').length === 1);
    expect(socket.messages.map((m) => m.type).filter((t) => t !== 'audio')).toEqual(['ready', 'phrase', 'flushed']);
    expect(socket.of('phrase')[0]!.text).toBe('Half a sentence with no end');
    socket.receive({ type: 'text', text: 'More.' });
    socket.receive({ type: 'end' });
    await until(() => socket.of('done').length === 1);
    expect(socket.of('done')[0]!.stats.phrases).toBe(2);
  });

  it('an emotion message changes the mix from the next word; an unknown emotion is refused and nothing changes', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16', emotion: { sad: 1 } });
    socket.receive({ type: 'emotion', weights: { joy: 1 } });
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'unknown_emotion', field: 'weights', fatal: false });
    expect(socket.messages.at(-1)!.message).toContain('known: neutral, happy, sad');
    socket.receive({ type: 'text', text: 'Sad words here. ' });
    socket.receive({ type: 'emotion', weights: { happy: 3, neutral: 1 } });
    socket.receive({ type: 'text', text: 'Happy words there.' });
    socket.receive({ type: 'end' });
    await until(() => socket.of('done').length === 1);
    const [sad, happy] = socket.of('phrase');
    expect(sad!.emotion).toEqual({ sad: 1 });
    expect(happy!.emotion).toEqual({ happy: 0.75, neutral: 0.25 });
    expect(Object.fromEntries(checkedMix(engine.requests[0]!.weights))).toEqual({ sad: 1 });
    expect(happy!.words.at(-1)!.emotion).toEqual({ happy: 0.75, neutral: 0.25 });
  });

  it('reports a phrase whose synthesis fails as synthesis_failed, without the engine\'s words, and goes on', async () => {
    const { socket, until, metrics } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'text', text: 'This one is fine. This one will explode now. And this one is fine too.' });
    socket.receive({ type: 'end' });
    await until(() => socket.of('done').length === 1);
    const error = socket.of('error')[0]!;
    expect(error).toEqual({
      type: 'error',
      code: 'synthesis_failed',
      message: 'INFERENCE_FAILED: inference failed; the server log has the details',
      fatal: false,
      phrase: 2,
      text: 'This one will explode now.',
    });
    expect(socket.of('phrase').map((p) => p.id)).toEqual([1, 3]);
    expect([...samplesByPhrase(socket.messages).keys()]).toEqual([1, 3]);
    expect(socket.of('done')[0]!.stats).toMatchObject({ phrases: 2, failedPhrases: 1, cancelledPhrases: 0 });
    const counted = (await metrics.phrases.get()).values.map((v) => [v.labels.outcome, v.value]);
    expect(Object.fromEntries(counted)).toEqual({ spoken: 2, failed: 1 });
  });

  it('cancel returns every accepted character not yet spoken, and a new turn starts clean', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    const text = 'This goes out first. This one renders slowly. This waits behind it. And a tail with no end';
    socket.receive({ type: 'text', text });
    await until(() => engine.waiting === 1 && socket.of('phrase').length === 1);
    socket.receive({ type: 'cancel' });
    const cancelled = socket.of('cancelled')[0]!;
    const spoken = socket.of('phrase').map((p) => p.text);
    expect(spoken).toEqual(['This goes out first.']);
    // Nothing announced was cut short (phrase 1 was whole on the socket); the rest comes back as text.
    expect(cancelled.phrases).toEqual([]);
    expect([...spoken, cancelled.text].join(' ')).toBe(text);
    socket.receive({ type: 'text', text: 'After the cancel.' });
    socket.receive({ type: 'end' });
    await until(() => socket.of('done').length === 1);
    const phrases = socket.of('phrase');
    expect(phrases.at(-1)).toMatchObject({ text: 'After the cancel.' });
    // The new phrase starts where the audio sent ends: nothing of the cancelled ones is on the timeline.
    expect(phrases.at(-1)!.startMs).toBeCloseTo((padded(4 * SAMPLES_PER_WORD) * 1000) / 48_000, 6);
    const stats = socket.of('done')[0]!.stats;
    expect(stats.phrases).toBe(2);
    // Phrases cut and dropped (the slow one and the one behind it) are counted as cancelled.
    expect(stats.cancelledPhrases).toBe(2);
  });

  it('refuses messages out of order with their codes, and a fatal one closes with its close code', async () => {
    const { socket, until } = setup();
    socket.receive({ type: 'text', text: 'Too early.' });
    socket.receive({ type: 'start', voice: 'nobody' });
    socket.receive({ type: 'start', steps: 17 });
    socket.receive({ type: 'start', speaker: 'carol' });
    socket.receive({ type: 'start', format: 'mulaw', sampleRate: 16_000 });
    socket.emit('message', Buffer.from('{"type":"start"}'), false);
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'start' });
    socket.receive({ type: 'end' });
    socket.receive({ type: 'text', text: 'Too late.' });
    const errors = socket.of('error').map((e) => [e.code, e.field ?? null, e.fatal]);
    expect(errors).toEqual([
      ['not_started', null, false],
      ['unknown_voice', 'voice', false],
      ['invalid_field', 'steps', false],
      ['unknown_speaker', 'speaker', false],
      ['invalid_field', 'sampleRate', false],
      ['bad_message', null, false],
      ['already_started', null, false],
      ['ended', null, false],
    ]);
    expect(socket.of('ready')).toHaveLength(1);
    await until(() => socket.closedWith !== undefined);
    expect(socket.closedWith!.code).toBe(CloseCode.normal);
  });

  it('closes with idle_timeout (4408) when nothing comes and nothing goes', async () => {
    const { socket, until } = setup({ idleTimeoutMs: 60 });
    socket.receive({ type: 'start', format: 'pcm16' });
    await until(() => socket.closedWith !== undefined);
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'idle_timeout', fatal: true });
    expect(socket.closedWith).toEqual({ code: CloseCode.idleTimeout, reason: 'idle_timeout' });
  });

  it('holds audio back while the client does not read, and loses nothing once it does', async () => {
    const { socket, engine, until } = setup({ highWaterBytes: 4096, chunkMs: 20 });
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.writing = false;
    const text = 'One two three four five six. Seven eight nine ten. Eleven and twelve. Thirteen and fourteen.';
    socket.receive({ type: 'text', text });
    socket.receive({ type: 'end' });
    await until(() => socket.of('audio').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Audio stops once more than the high-water mark waits unwritten: one 20 ms frame is
    // 1,920 bytes, so at most a few messages past 4,096 bytes.
    const held = socket.of('audio').length;
    expect(held).toBeLessThanOrEqual(4);
    expect(socket.of('done')).toHaveLength(0);
    // Synthesis waits too: at most two phrases ahead of delivery.
    expect(engine.texts).toHaveLength(2);
    socket.write();
    await until(() => socket.of('done').length === 1);
    const total = [...samplesByPhrase(socket.messages).values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(socket.of('phrase').reduce((n, p) => n + padded(words(p.text) * SAMPLES_PER_WORD), 0));
    expect(socket.of('phrase')).toHaveLength(4);
    expect(socket.of('audio').length).toBeGreaterThan(held);
  });

  it('drain: speaks what was accepted, then closes 1001 with shutting_down; new input is refused', async () => {
    const { socket, session, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'text', text: 'Accepted before the drain. And this as well' });
    const drained = session.drain(5000);
    socket.receive({ type: 'text', text: 'Refused.' });
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: false });
    await until(() => socket.closedWith !== undefined);
    expect(socket.of('phrase').map((p) => p.text)).toEqual(['Accepted before the drain.', 'And this as well']);
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: true, message: 'the server is shutting down; everything accepted was spoken' });
    expect(socket.closedWith!.code).toBe(CloseCode.goingAway);
    await drained;
  });

  it('drain past its deadline cancels the rest and says what was not spoken', async () => {
    const { socket, engine, session, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'text', text: 'This one renders slowly. And this one never comes.' });
    await until(() => engine.waiting === 1);
    await session.drain(30);
    const cancelled = socket.of('cancelled')[0]!;
    expect(cancelled.text).toBe('This one renders slowly. And this one never comes.');
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: true });
    expect(socket.closedWith!.code).toBe(CloseCode.goingAway);
  });

  it('a reference clip becomes an emotion the text may name; a bad clip is refused with the engine\'s reason', async () => {
    const { socket, engine, until } = setup();
    socket.receive({ type: 'start', format: 'pcm16' });
    socket.receive({ type: 'reference', name: 'calm', audio: new Uint8Array(16) });
    socket.receive({ type: 'reference', name: 'tiny', audio: new Uint8Array(2) });
    socket.receive({ type: 'reference', name: 'happy', audio: new Uint8Array(16) });
    expect(socket.messages.at(-1)).toMatchObject({ type: 'error', code: 'invalid_field', field: 'name' });
    await until(() => socket.of('emotionAdded').length === 1 && socket.of('error').length === 2);
    expect(socket.of('error')[1]).toMatchObject({ code: 'bad_reference', field: 'audio', message: 'audio: the clip is too short' });
    socket.receive({ type: 'emotion', weights: { calm: 1 } });
    socket.receive({ type: 'text', text: 'Calm now.' });
    socket.receive({ type: 'end' });
    await until(() => socket.of('done').length === 1);
    expect(socket.of('phrase')[0]!.emotion).toEqual({ calm: 1 });
    expect(Object.keys(engine.requests[0]!.customEmotions!)).toEqual(['calm']);
  });
});
