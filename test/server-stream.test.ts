// Protocol v1 over real sockets with the fixture voice (random weights: it
// speaks noise, which is all these tests need).
import { describe, expect, it } from 'vitest';
import { createOpusDecoder, opusPacketSamples } from '../src/stream/opus.js';
import { bytesLEToInt16 } from '../src/stream/pcm.js';
import { audioOf, serveFixture, sleep, startServer, TestClient, wordsOf } from './server-harness.js';

const srv = serveFixture();

const FRAME = 960; // 20 ms at 48 kHz
const sentences = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `This is sentence number ${from + i} of the test.`);

/** Checks the invariants every phrase of a finished session must hold, and returns its decoded samples. */
function checkPhrases(client: TestClient, format: 'opus' | 'pcm16'): Map<number, Int16Array> {
  const decoder = createOpusDecoder();
  const decoded = new Map<number, Int16Array>();
  let expectedSeq = 0;
  let expectedStart = 0;
  for (const phrase of client.of('phrase')) {
    // The phrase message comes before its audio.
    const index = client.messages.indexOf(phrase);
    const audio = audioOf(client, phrase.id);
    for (const a of audio) expect(client.messages.indexOf(a)).toBeGreaterThan(index);

    const parts: Int16Array[] = [];
    for (const a of audio) {
      expect(a.seq).toBe(expectedSeq);
      expectedSeq += a.packets.length;
      for (const packet of a.packets as Uint8Array[]) {
        if (format === 'opus') expect(opusPacketSamples(packet)).toBe(FRAME); // one 20 ms frame per packet
        parts.push(format === 'opus' ? decoder.decode(packet) : bytesLEToInt16(packet));
      }
    }
    const samples = Int16Array.from(parts.flatMap((p) => Array.from(p)));
    decoded.set(phrase.id, samples);
    // Decoded length: the phrase's duration rounded up to whole 20 ms frames.
    const speech = Math.round((phrase.durationMs * 48_000) / 1000);
    expect(samples.length).toBe(Math.ceil(speech / FRAME) * FRAME);
    expect(samples.length - (phrase.durationMs * 48_000) / 1000).toBeLessThan(FRAME);
    // Phrases follow each other on the session timeline.
    expect(phrase.startMs).toBeCloseTo(expectedStart, 6);
    expectedStart += (samples.length * 1000) / 48_000;
    for (const w of phrase.words) {
      expect(w.startMs).toBeGreaterThanOrEqual(phrase.startMs);
      expect(w.endMs).toBeLessThanOrEqual(phrase.startMs + phrase.durationMs + 1e-6);
      expect(w.endMs).toBeGreaterThanOrEqual(w.startMs);
    }
  }
  return decoded;
}

const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

describe('happy path', () => {
  it('streams Opus that a real decoder turns into exactly the announced duration', async () => {
    const client = await TestClient.connect(srv.ws);
    const ready = await client.start();
    expect(ready).toMatchObject({
      type: 'ready',
      protocol: 1,
      voice: 'tiny-voice',
      emotions: ['neutral', 'happy', 'sad', 'angry', 'surprise'],
      neutral: 'neutral',
      sampleRate: 48_000,
      frameMs: 20,
      format: 'opus',
      steps: 4,
    });
    expect(typeof ready.session).toBe('string');
    expect(ready.preSkip).toBeGreaterThan(0);

    const text = 'Hello there, this is the first sentence. And here is a second one!';
    client.send({ type: 'text', text });
    client.send({ type: 'end' });
    const done = await client.next('done');
    expect(await client.closed).toEqual({ code: 1000, reason: 'done' });

    const phrases = client.of('phrase');
    expect(phrases.length).toBeGreaterThanOrEqual(2);
    expect(phrases.map((p) => p.id)).toEqual(phrases.map((_, i) => i + 1));
    expect(phrases.flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(text));
    const decoded = checkPhrases(client, 'opus');
    for (const samples of decoded.values()) expect(rms(samples)).toBeGreaterThan(0);
    // As produced: 100 ms (the default chunk) per audio message, less only at a phrase's end.
    for (const p of phrases) expect(audioOf(client, p.id).slice(0, -1).every((a) => a.packets.length === 5)).toBe(true);
    expect(done.stats.phrases).toBe(phrases.length);
    expect(done.stats.packets).toBe(client.of('audio').reduce((n, a) => n + a.packets.length, 0));
    expect(done.stats.audioMs).toBeCloseTo(phrases.reduce((n, p) => n + p.durationMs, 0), 6);
    expect(client.types().at(-1)).toBe('done');
  });

  it('encodes Opus at the configured bitrate', async () => {
    const bytesAt = async (opusBitrate: number) => {
      const server = await startServer(srv.voices, { opusBitrate });
      try {
        const client = await TestClient.connect(server.ws);
        await client.start({ seed: 3 });
        client.send({ type: 'text', text: 'The same words at two bitrates.' });
        client.send({ type: 'end' });
        await client.closed;
        checkPhrases(client, 'opus');
        return client.of('audio').reduce((n, a) => n + (a.packets as Uint8Array[]).reduce((m, p) => m + p.length, 0), 0);
      } finally {
        await server.server.close();
      }
    };
    const low = await bytesAt(8_000);
    const high = await bytesAt(64_000);
    expect(high).toBeGreaterThan(3 * low);
  });

  it('streams pcm16 as little-endian 48 kHz samples', async () => {
    const client = await TestClient.connect(srv.ws);
    expect(await client.start({ format: 'pcm16' })).toMatchObject({ format: 'pcm16' });
    client.send({ type: 'text', text: 'Raw samples, please.' });
    client.send({ type: 'end' });
    await client.closed;
    const decoded = checkPhrases(client, 'pcm16');
    expect(decoded.size).toBe(1);
    for (const a of client.of('audio')) expect(a.packets).toHaveLength(1);
  });

  it('reports where each spoken phrase spent its time when start.timings asks, and only then', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ timings: true });
    client.send({ type: 'text', text: sentences(3).join(' ') });
    client.send({ type: 'end' });
    const done = await client.next('done');
    const phrases = client.of('phrase');
    const timings = done.stats.phraseTimings as Record<string, any>[];
    expect(timings.map((t) => t.phrase)).toEqual(phrases.map((p) => p.id));
    for (const t of timings) {
      expect(t.estimatorMs).toHaveLength(4);
      // The worker calls' parts add up to no more than the synthesis they belong to.
      expect(t.workerQueuedMs + t.workerMs + t.messagingMs).toBeLessThanOrEqual(t.synthesisMs);
      expect(t.workerMs).toBeGreaterThan(0);
      expect(t.encodeMs).toBeGreaterThan(0);
      for (const key of ['queuedMs', 'resampleMs', 'heldMs', 'deliveryMs', 'messagingMs', 'workerQueuedMs']) expect(t[key]).toBeGreaterThanOrEqual(0);
    }

    const plain = await TestClient.connect(srv.ws);
    await plain.start();
    plain.send({ type: 'text', text: sentences(1).join(' ') });
    plain.send({ type: 'end' });
    expect((await plain.next('done')).stats).not.toHaveProperty('phraseTimings');
  });

  it('answers flush with flushed after the audio of the text before it', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    client.send({ type: 'text', text: 'no sentence end here' });
    client.send({ type: 'flush' });
    await client.next('flushed');
    const types = client.types();
    expect(types.indexOf('phrase')).toBeGreaterThan(0);
    expect(types.lastIndexOf('audio')).toBeLessThan(types.indexOf('flushed'));
    expect(client.of('phrase')[0]!.text).toBe('no sentence end here');
    client.send({ type: 'end' });
    expect((await client.closed).code).toBe(1000);
  });

  it('speaks LLM-style tokens sent one at a time, first phrase before the text is complete', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    const text = ['The old man walked home through the quiet park at night.', ...sentences(5)].join(' ');
    const tokens = text.split(/(?=\s)/); // " word" tokens, as LLMs emit them
    let sentBeforeFirstPhrase: number | undefined;
    client.next('phrase').then(() => (sentBeforeFirstPhrase ??= sent));
    let sent = 0;
    for (const token of tokens) {
      client.send({ type: 'text', text: token });
      sent++;
      await sleep(5);
    }
    client.send({ type: 'end' });
    await client.closed;
    // The first phrase was cut early, at a pause point, and spoken before the rest arrived.
    expect(sentBeforeFirstPhrase).toBeLessThan(tokens.length);
    const phrases = client.of('phrase');
    expect(phrases[0]!.text).toBe('The old man walked home');
    expect(phrases.flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(text));
    checkPhrases(client, 'opus');
  });

  it('cuts a long sentence at a pause point when the listener is about to run dry', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ pacing: 'realtime' });
    client.send({ type: 'text', text: 'Hi. We ' });
    await client.next('audio');
    // Well under a second of audio is out; the next sentence streams in slowly, word by word.
    const long = 'We could try the old road through the forest but it will take us most of the afternoon and we will be tired.';
    for (const word of long.split(' ').slice(1)) {
      client.send({ type: 'text', text: `${word} ` });
      await sleep(60);
    }
    client.send({ type: 'end' });
    await client.closed;
    const phrases = client.of('phrase').map((p) => p.text as string);
    expect(phrases[0]).toBe('Hi.');
    // Not held back to the sentence's end: cut before a word that opens a phrase, with words after it.
    expect(phrases.length).toBeGreaterThan(2);
    const second = wordsOf(phrases[1]!);
    const next = wordsOf(phrases[2]!)[0]!;
    expect(['through', 'but', 'and']).toContain(next.toLowerCase());
    expect(second.length).toBeGreaterThanOrEqual(4);
    expect(phrases.flatMap(wordsOf)).toEqual(wordsOf(`Hi. ${long}`));
  });

  it('normalises weights and reports them on each phrase', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ emotion: { happy: 2, sad: 2 } });
    client.send({ type: 'text', text: 'Half and half.' });
    client.send({ type: 'end' });
    await client.closed;
    expect(client.of('phrase')[0]!.emotion).toEqual({ happy: 0.5, sad: 0.5 });
  });
});

describe('emotion', () => {
  /** Decoded audio of one phrase in a fresh session. */
  async function speak(emotion: Record<string, number>, text: string): Promise<Int16Array> {
    const client = await TestClient.connect(srv.ws);
    await client.start({ emotion, seed: 7, format: 'pcm16' });
    client.send({ type: 'text', text });
    client.send({ type: 'end' });
    await client.closed;
    return checkPhrases(client, 'pcm16').get(1)!;
  }

  it('reaches the synthesis: same seed and mix give the same audio, another mix other audio', async () => {
    const a = await speak({ happy: 1 }, 'Listen to my mood.');
    const b = await speak({ happy: 1 }, 'Listen to my mood.');
    const c = await speak({ sad: 1 }, 'Listen to my mood.');
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('an update mid-stream changes the mix of the next phrase', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    client.send({ type: 'text', text: 'I am calm.' });
    client.send({ type: 'flush' });
    await client.next('flushed');
    client.send({ type: 'emotion', weights: { angry: 3, neutral: 1 } });
    client.send({ type: 'text', text: 'Now I am not.' });
    client.send({ type: 'end' });
    await client.closed;
    const [first, second] = client.of('phrase');
    expect(first!.emotion).toEqual({ neutral: 1 });
    expect(second!.emotion).toEqual({ angry: 0.75, neutral: 0.25 });
    expect(second!.ramp).toBeUndefined();
  });

  it('ramps across phrases on the session timeline', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ emotion: { neutral: 1 } });
    client.send({ type: 'text', text: 'Before the change.' });
    client.send({ type: 'flush' });
    await client.next('flushed');
    const rampMs = 1500;
    client.send({ type: 'emotion', weights: { sad: 1 }, rampMs });
    client.send({ type: 'text', text: sentences(8).join(' ') });
    client.send({ type: 'end' });
    await client.closed;
    const [, ...after] = client.of('phrase');
    const anchor = after[0]!.startMs;
    expect(anchor).toBeGreaterThan(0);
    let ended = false;
    for (const p of after) {
      const t = Math.min(1, (p.startMs - anchor) / rampMs);
      if (t < 1) {
        expect(p.ramp).toEqual({ to: { sad: 1 }, startMs: anchor, endMs: anchor + rampMs });
        expect(p.emotion.sad ?? 0).toBeCloseTo(t, 9);
        expect(p.emotion.neutral).toBeCloseTo(1 - t, 9);
      } else {
        ended = true;
        expect(p.emotion).toEqual({ sad: 1 });
        expect(p.ramp).toBeUndefined();
      }
    }
    // The ramp spanned several phrases and then settled.
    expect(after.filter((p) => p.ramp).length).toBeGreaterThanOrEqual(2);
    expect(ended).toBe(true);
  });

  it('registers a reference clip as a custom emotion usable in a mix', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    client.send({ type: 'reference', name: 'whisper', audio: testWav(16_000, 0.5) });
    expect(await client.next((m) => m.type === 'emotionAdded' || m.type === 'error')).toEqual({ type: 'emotionAdded', name: 'whisper' });
    client.send({ type: 'emotion', weights: { whisper: 1, happy: 1 } });
    client.send({ type: 'text', text: 'Quietly happy.' });
    client.send({ type: 'end' });
    await client.closed;
    expect(client.of('error')).toEqual([]);
    expect(client.of('phrase')[0]!.emotion).toEqual({ whisper: 0.5, happy: 0.5 });
  });
});

/** A mono 16-bit WAV of a decaying chirp. */
function testWav(rate: number, seconds: number): Uint8Array {
  const n = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + n * 2);
  out.write('RIFF', 0);
  out.writeUInt32LE(36 + n * 2, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * (200 + i / 20) * i) / rate) * Math.exp(-i / n)), 44 + i * 2);
  return out;
}

describe('cancel', () => {
  it('stops audio within 100 ms, stops synthesis, and accounts for every word', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ pacing: 'realtime' });
    const text = sentences(12).join(' ');
    client.send({ type: 'text', text });
    await client.next('audio');
    await sleep(300);
    const cancelledAt = performance.now();
    client.send({ type: 'cancel' });
    const cancelled = await client.next('cancelled');
    const renderedAtCancel = srv.server.sessions().find((s) => s.state === 'streaming')!.phrasesRendered;
    await sleep(400);

    const cancelIndex = client.messages.indexOf(cancelled);
    const audioIndexes = client.messages.flatMap((m, i) => (m.type === 'audio' ? [i] : []));
    // Real-time pacing sends frame by frame.
    expect(client.of('audio').every((a) => a.packets.length === 1)).toBe(true);
    // Nothing of the cancelled speech after `cancelled`, and the last packet came within 100 ms of the cancel.
    expect(audioIndexes.every((i) => i < cancelIndex)).toBe(true);
    expect(client.arrivals[audioIndexes.at(-1)!]! - cancelledAt).toBeLessThan(100);
    // Synthesis stopped: nothing rendered after the cancel.
    const session = srv.server.sessions().find((s) => s.state === 'streaming')!;
    expect(session.phrasesRendered).toBe(renderedAtCancel);
    expect(session.pendingText).toBe(0);

    // Every word was either announced or reported cancelled, in order.
    const spoken = client.of('phrase').flatMap((p) => wordsOf(p.text));
    expect([...spoken, ...wordsOf(cancelled.text)]).toEqual(wordsOf(text));
    expect(cancelled.text.length).toBeGreaterThan(0);
    const announced = client.of('phrase').map((p) => p.id);
    for (const id of cancelled.phrases) expect(announced).toContain(id);

    // The session goes on with new text and new phrase ids.
    client.send({ type: 'text', text: 'After the barge-in.' });
    client.send({ type: 'end' });
    const done = await client.next('done');
    const last = client.of('phrase').at(-1)!;
    expect(last.text).toBe('After the barge-in.');
    expect(last.id).toBeGreaterThan(Math.max(...announced));
    expect(done.stats.cancelledPhrases).toBeGreaterThan(0);
    expect((await client.closed).code).toBe(1000);
  });

  it('cancel after end still ends the session', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ pacing: 'realtime' });
    client.send({ type: 'text', text: sentences(5).join(' ') });
    client.send({ type: 'end' });
    await client.next('audio');
    const cancelled = client.next('cancelled');
    const done = client.next('done');
    client.send({ type: 'cancel' });
    await cancelled;
    expect((await done).stats.cancelledPhrases).toBeGreaterThan(0);
    expect((await client.closed).code).toBe(1000);
  });
});

describe('backpressure', () => {
  it('a reader that stops reading makes synthesis wait, with bounded memory, and loses nothing', async () => {
    const highWaterBytes = 16_384;
    const slow = await startServer(srv.voices, { highWaterBytes, chunkMs: 100 });
    try {
      const client = await TestClient.connect(slow.ws);
      await client.start({ format: 'pcm16' });
      client.socket.pause();
      const text = sentences(150).join(' ');
      client.send({ type: 'text', text });
      client.send({ type: 'end' });

      // Wait until the session stops making progress.
      let last = '';
      let stable = 0;
      let snapshot = slow.server.sessions()[0]!;
      for (let i = 0; i < 200 && stable < 8; i++) {
        await sleep(100);
        snapshot = slow.server.sessions()[0]!;
        const key = `${snapshot.phrasesRendered}/${snapshot.phrasesDelivered}`;
        stable = key === last ? stable + 1 : 0;
        last = key;
      }
      expect(stable).toBe(8);
      expect(snapshot.phrasesRendered).toBeLessThan(150);
      // At most one phrase being sent and one synthesized ahead.
      expect(snapshot.phrasesRendered - snapshot.phrasesDelivered).toBeLessThanOrEqual(2);
      // Queued bytes: the high-water mark plus at most one audio message (100 ms of pcm16 and its envelope).
      expect(snapshot.queuedBytes).toBeLessThanOrEqual(highWaterBytes + 9600 + 200);

      client.socket.resume();
      const done = await client.next('done', 60_000);
      expect(done.stats.phrases).toBe(150);
      expect(client.of('phrase').flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(text));
    } finally {
      await slow.server.close();
    }
  }, 60_000);
});

describe('concurrency', () => {
  it('serves 20 sessions at once, each getting its own complete audio', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => TestClient.connect(srv.ws)));
    const readies = await Promise.all(clients.map((c, i) => c.start({ emotion: { [i % 2 ? 'happy' : 'sad']: 1 } })));
    expect(new Set(readies.map((r) => r.session)).size).toBe(20);
    clients.forEach((c, i) => {
      c.send({ type: 'text', text: `Client ${i} says hello. Then client ${i} says goodbye.` });
      c.send({ type: 'end' });
    });
    const closes = await Promise.all(clients.map((c) => c.closed));
    expect(closes.every((c) => c.code === 1000)).toBe(true);
    clients.forEach((c, i) => {
      expect(c.of('phrase').flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(`Client ${i} says hello. Then client ${i} says goodbye.`));
      expect(c.of('phrase').every((p) => p.emotion[i % 2 ? 'happy' : 'sad'] === 1)).toBe(true);
      checkPhrases(c, 'opus');
    });
    await sleep(50);
    expect(srv.server.sessions()).toEqual([]);
  }, 60_000);
});

