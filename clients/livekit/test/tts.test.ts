// The plugin driven as LiveKit Agents drives a TTS (the real @livekit/agents
// stream classes; no LiveKit server is needed for that) against a real emomix
// server on the fixture voice, which speaks noise: enough for timing checks.
import { ReadableStream } from 'node:stream/web';
import { APIStatusError, initializeLogger, tts, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { pack, serveFixture, startServer, TestClient, wordsOf } from '../../../test/server-harness.js';
import { expressionMix, TTS, type Phrase, type SpeechOutcome } from '../src/index.js';

const srv = serveFixture();
const FRAME = 960; // 20 ms at 48 kHz

beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

type Chunk = tts.SynthesizedAudio;

/** Everything a stream yields up to its end. */
async function drain(stream: AsyncIterable<Chunk | typeof tts.SynthesizeStream.END_OF_STREAM>): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const chunk of stream) {
    if (chunk === tts.SynthesizeStream.END_OF_STREAM) break;
    out.push(chunk);
  }
  return out;
}

const samplesOf = (chunks: Chunk[]) => chunks.reduce((n, c) => n + c.frame.samplesPerChannel, 0);
const framesOf = (durationMs: number) => Math.ceil(Math.round(durationMs * 48) / FRAME);
/** The audio of these phrases as the server announced them: each one's duration rounded up to whole 20 ms frames. */
const samplesOfPhrases = (phrases: Phrase[]) => phrases.reduce((n, p) => n + framesOf(p.durationMs) * FRAME, 0);
const announcedSamples = (outcome: SpeechOutcome) => samplesOfPhrases(outcome.spoken);
const transcriptOf = (chunks: Chunk[]) => chunks.flatMap((c) => c.timedTranscripts ?? []);

describe('stream()', () => {
  it('speaks text pushed token by token as 48 kHz frames as long as the phrases the server announced', async () => {
    const engine = new TTS({ url: srv.ws, seed: 5 });
    expect(engine.sampleRate).toBe(48_000);
    expect(engine.numChannels).toBe(1);
    const stream = engine.stream();
    const text = 'Hello there, how are you today? I hope you are well. This is the third sentence.';
    for (const token of text.match(/\S+\s*/g)!) stream.pushText(token);
    stream.endInput();
    const chunks = await drain(stream);
    const outcome = await stream.outcome;

    for (const c of chunks) {
      expect(c.frame.sampleRate).toBe(48_000);
      expect(c.frame.channels).toBe(1);
      expect(c.frame.samplesPerChannel).toBe(FRAME);
      expect(c.requestId).toBe(outcome.session);
    }
    expect(outcome.spoken.map((p) => p.text).join(' ')).toBe(text);
    expect(samplesOf(chunks)).toBe(announcedSamples(outcome));
    expect(samplesOf(chunks)).toBeGreaterThanOrEqual((outcome.stats!.audioMs * 48_000) / 1000);
    // One segment (endInput flushes once): only its last frame is final.
    expect(chunks.filter((c) => c.final)).toEqual([chunks[chunks.length - 1]]);
    expect(new Set(chunks.map((c) => c.segmentId)).size).toBe(1);
    await engine.close();
  });

  it('reports a transcript of the written text timed by the spoken words, within the audio', async () => {
    const engine = new TTS({ url: srv.ws, seed: 6 });
    const stream = engine.stream();
    const text = 'Dr. Smith paid $3.50 for it. Then he left, at 10:30!';
    stream.pushText(text);
    stream.endInput();
    const chunks = await drain(stream);
    const outcome = await stream.outcome;
    const transcript = transcriptOf(chunks);

    expect(transcript.map((t) => t.text).join('')).toBe(wordsOf(text).join(' ') + ' ');
    let previousEnd = 0;
    for (const t of transcript) {
      expect(t.startTime!).toBeGreaterThanOrEqual(previousEnd - 1e-9);
      expect(t.endTime!).toBeGreaterThanOrEqual(t.startTime!);
      previousEnd = t.endTime!;
    }
    // Each phrase's tokens lie within the phrase on the timeline, which is the stream's audio.
    let at = 0;
    for (const phrase of outcome.spoken) {
      const tokens = transcript.slice(at, (at += wordsOf(phrase.text).length));
      expect(tokens.map((t) => t.text).join('')).toBe(wordsOf(phrase.text).join(' ') + ' ');
      expect(tokens[0]!.startTime! * 1000).toBeGreaterThanOrEqual(phrase.startMs - 1e-6);
      expect(tokens[tokens.length - 1]!.endTime! * 1000).toBeLessThanOrEqual(phrase.startMs + phrase.durationMs + 1e-6);
    }
    expect(previousEnd).toBeLessThanOrEqual(samplesOf(chunks) / 48_000);
    await engine.close();
  });

  it('ends a segment at each flush, and keeps one session for the whole stream', async () => {
    const engine = new TTS({ url: srv.ws });
    const stream = engine.stream();
    stream.pushText('First part of the answer');
    stream.flush();
    stream.pushText('and the second part.');
    stream.endInput();
    const chunks = await drain(stream);
    const outcome = await stream.outcome;
    const finals = chunks.filter((c) => c.final);
    expect(finals).toHaveLength(2);
    expect(chunks[chunks.length - 1]!.final).toBe(true);
    expect(new Set(chunks.map((c) => c.segmentId)).size).toBe(2);
    expect(new Set(chunks.map((c) => c.requestId))).toEqual(new Set([outcome.session]));
    expect(outcome.spoken.map((p) => p.text)).toEqual(['First part of the answer', 'and the second part.']);
    expect(samplesOf(chunks)).toBe(announcedSamples(outcome));
    await engine.close();
  });

  it('cancels on the server when closed (barge-in): audio stops and the server reports the text not spoken', async () => {
    const engine = new TTS({ url: srv.ws });
    const stream = engine.stream();
    // With no sentence end after it, the server holds the second part, unannounced, when the cancel arrives.
    const pending = 'And then the rest of what I meant to say';
    stream.pushText('Hello there, my friend. ' + pending);
    const first = await stream.next();
    expect(first.done).toBe(false);
    stream.close();
    const outcome = await stream.outcome;
    // Frames already handed to LiveKit's output queue still drain; then the stream ends.
    while (!(await stream.next()).done);
    expect(outcome.cancelledText).toBe(pending);
    expect(outcome.stats).toBeUndefined();
    // Every word is accounted for: spoken, cut short, or never announced.
    expect([...outcome.spoken, ...outcome.cancelledPhrases].map((p) => p.text).concat(outcome.cancelledText).flatMap(wordsOf)).toEqual(
      wordsOf('Hello there, my friend. ' + pending),
    );
  });

  it('cuts a long answer short when interrupted mid-speech', async () => {
    const engine = new TTS({ url: srv.ws });
    const stream = engine.stream();
    const sentences = Array.from({ length: 30 }, (_, i) => `This is sentence number ${i + 1} of a long answer.`);
    stream.pushText(sentences.join(' '));
    stream.endInput();
    let frames = 0;
    for await (const chunk of stream) {
      if (chunk === tts.SynthesizeStream.END_OF_STREAM) break;
      if (++frames === 3) stream.close();
    }
    const outcome = await stream.outcome;
    expect(outcome.spoken.length).toBeLessThan(sentences.length);
    expect(outcome.cancelledPhrases.length + wordsOf(outcome.cancelledText).length).toBeGreaterThan(0);
    // No more audio than the server had announced before it stopped.
    expect(frames * FRAME).toBeLessThanOrEqual(samplesOfPhrases([...outcome.spoken, ...outcome.cancelledPhrases]));
    expect([...outcome.spoken, ...outcome.cancelledPhrases].map((p) => p.text).concat(outcome.cancelledText).flatMap(wordsOf)).toEqual(
      wordsOf(sentences.join(' ')),
    );
  });
});

describe('emotion', () => {
  it('starts each turn with the configured emotion, changed between turns by updateOptions', async () => {
    const engine = new TTS({ url: srv.ws, emotion: 'happy' });
    const turn = async () => {
      const stream = engine.stream();
      stream.pushText('One short turn.');
      stream.endInput();
      await drain(stream);
      return (await stream.outcome).spoken[0]!.emotion;
    };
    expect(await turn()).toEqual({ happy: 1 });
    engine.updateOptions({ emotion: { sad: 1, angry: 3 } });
    expect(await turn()).toEqual({ sad: 0.25, angry: 0.75 });
    await engine.close();
  });

  it('reaches a stream that is speaking when updateOptions changes it within a turn, at that point of the text', async () => {
    const engine = new TTS({ url: srv.ws });
    const stream = engine.stream();
    stream.pushText('The first sentence is calm. And the');
    expect((await stream.next()).done).toBe(false);
    engine.updateOptions({ emotion: 'angry' });
    stream.pushText(' second one is not.');
    stream.endInput();
    await drain(stream);
    const words = (await stream.outcome).spoken.flatMap((p) => p.words);
    expect(words.map((w) => w.word)).toEqual(['the', 'first', 'sentence', 'is', 'calm', 'and', 'the', 'second', 'one', 'is', 'not']);
    // The server anchors the change where it came in the text, after "And the"; the word after
    // it is spoken during the server's 100 ms transition to the new mix.
    expect(words.slice(0, 7).map((w) => w.emotion)).toEqual(Array(7).fill({ neutral: 1 }));
    expect(words[7]!.emotion['angry']).toBeGreaterThan(0);
    expect(words.slice(8).map((w) => w.emotion)).toEqual(Array(3).fill({ angry: 1 }));
    await engine.close();
  });

  it("turns LiveKit expression markup into mixes on exactly the words that follow, and keeps markup out of speech and transcript", async () => {
    const engine = new TTS({ url: srv.ws });
    const instructions = engine.markup.llmInstructions();
    expect(instructions).toContain('<expr type="expression" label="EMOTION"/>');
    const stream = engine.stream();
    const llm = '<expr type="expression" label="excited"/> I cannot wait to tell you! <expr type="expression" label="sincere and concerned"/> But first, some bad news. <expr type="expression" label="angry"/> Nobody warned us.';
    // As the voice pipeline's ttsNode feeds it: the LLM's chunks (a few characters, markers cut
    // anywhere) through the session's default text transforms into updateInputStream.
    const chunks7 = Array.from({ length: Math.ceil(llm.length / 7) }, (_, i) => llm.slice(i * 7, i * 7 + 7));
    const source = new ReadableStream<string>({
      start(controller) {
        for (const chunk of chunks7) controller.enqueue(chunk);
        controller.close();
      },
    });
    stream.updateInputStream(voice.textTransforms.applyTextTransforms(source, ['filter_markdown', 'filter_emoji']));
    const chunks = await drain(stream);
    const { spoken } = await stream.outcome;
    const emotions = ['neutral', 'happy', 'sad', 'angry', 'surprise'];
    const sentences: [string, object][] = [
      ['I cannot wait to tell you!', expressionMix('excited', emotions, 'neutral')],
      ['But first, some bad news.', { sad: 0.4, neutral: 0.6 }],
      ['Nobody warned us.', { angry: 1 }],
    ];
    expect(spoken.map((p) => p.text).join(' ')).toBe(sentences.map(([s]) => s).join(' '));
    // Every word has the mix of the expression before its sentence, however the server cut the phrases.
    const expected = sentences.flatMap(([s, mix]) => wordsOf(s).map(() => mix));
    expect(spoken.flatMap((p) => p.words.map((w) => w.emotion))).toEqual(expected);
    expect(transcriptOf(chunks).map((t) => t.text).join('')).toBe('I cannot wait to tell you! But first, some bad news. Nobody warned us. ');
    await engine.close();
  });
});

describe('synthesize()', () => {
  it('gives the same samples as a protocol session with the same seed, with its transcript', async () => {
    const text = 'A whole text at once. It has two sentences!';
    const engine = new TTS({ url: srv.ws, seed: 42, emotion: { happy: 0.5, surprise: 0.5 } });
    const chunked = engine.synthesize(text);
    const chunks: Chunk[] = [];
    for await (const chunk of chunked) chunks.push(chunk);
    const outcome = await chunked.outcome;

    const client = await TestClient.connect(srv.ws);
    await client.start({ format: 'pcm16', seed: 42, emotion: { happy: 0.5, surprise: 0.5 } });
    client.send({ type: 'text', text });
    client.send({ type: 'end' });
    await client.next('done');
    const expected = Buffer.concat(client.of('audio').flatMap((m) => m.packets as Uint8Array[]));

    const got = Buffer.concat(chunks.map((c) => Buffer.from(c.frame.data.buffer, c.frame.data.byteOffset, c.frame.data.byteLength)));
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);
    const words = client.of('phrase').flatMap((p) => p.words as { startMs: number; endMs: number }[]);
    expect(transcriptOf(chunks).map((t) => [t.startTime! * 1000, t.endTime! * 1000])).toEqual(words.map((w) => [w.startMs, w.endMs]));
    expect(outcome.spoken.map((p) => p.text)).toEqual(client.of('phrase').map((p) => p.text));
    await engine.close();
  });

  it('stops on the server when closed mid-way', async () => {
    const engine = new TTS({ url: srv.ws });
    const text = Array.from({ length: 30 }, (_, i) => `Whole text sentence number ${i + 1}.`).join(' ');
    const chunked = engine.synthesize(text);
    let frames = 0;
    for await (const _ of chunked) if (++frames === 2) chunked.close();
    const outcome = await chunked.outcome;
    expect(outcome.spoken.length).toBeLessThan(30);
    expect([...outcome.spoken, ...outcome.cancelledPhrases].map((p) => p.text).concat(outcome.cancelledText).flatMap(wordsOf)).toEqual(wordsOf(text));
    await engine.close();
  });

  it('collects into one frame of the whole duration', async () => {
    const engine = new TTS({ url: srv.ws });
    const chunked = engine.synthesize('Short and sweet.');
    const frame = await chunked.collect();
    const outcome = await chunked.outcome;
    expect(frame.sampleRate).toBe(48_000);
    expect(frame.samplesPerChannel).toBe(announcedSamples(outcome));
    await engine.close();
  });
});

describe('sample rate', () => {
  it('asks the server for the rate it was built with: 24 kHz frames of 20 ms, same duration', async () => {
    const engine = new TTS({ url: srv.ws, sampleRate: 24_000 });
    expect(engine.sampleRate).toBe(24_000);
    const stream = engine.stream();
    stream.pushText('Half the samples, the same speech.');
    stream.endInput();
    const chunks = await drain(stream);
    const outcome = await stream.outcome;
    for (const c of chunks) {
      expect(c.frame.sampleRate).toBe(24_000);
      expect(c.frame.samplesPerChannel).toBe(480);
    }
    expect(samplesOf(chunks) * 2).toBe(announcedSamples(outcome));
    await engine.close();
  });
});

describe('errors', () => {
  it('reports a server it cannot reach once LiveKit has retried, as LiveKit plugins do', async () => {
    const engine = new TTS({ url: 'ws://127.0.0.1:1/v1/stream' });
    const errors: Parameters<tts.TTSCallbacks['error']>[0][] = [];
    engine.on('error', (e) => errors.push(e));
    const stream = engine.stream({ connOptions: { maxRetry: 1, retryIntervalMs: 10, timeoutMs: 5_000 } });
    stream.pushText('Never spoken.');
    stream.endInput();
    expect(await drain(stream)).toEqual([]);
    await expect(stream.outcome).rejects.toThrow(/cannot connect/);
    expect(errors.map((e) => e.recoverable)).toEqual([false]);
    await engine.close();
  });

  it('presents apiKey as the bearer token a guarded server asks for, and reports a wrong one as 401', async () => {
    const guarded = await startServer(srv.voices, { authToken: 'sekrit' });
    try {
      const engine = new TTS({ url: guarded.ws, apiKey: 'sekrit' });
      const frame = await engine.synthesize('Let me in.').collect();
      expect(frame.samplesPerChannel).toBeGreaterThan(0);

      const intruder = new TTS({ url: guarded.ws, apiKey: 'wrong' });
      const errors: Parameters<tts.TTSCallbacks['error']>[0][] = [];
      intruder.on('error', (e) => errors.push(e));
      const stream = intruder.stream();
      stream.pushText('Not for you.');
      stream.endInput();
      expect(await drain(stream)).toEqual([]);
      await expect(stream.outcome).rejects.toThrow(/unauthorized/);
      expect((errors[0]!.error as APIStatusError).statusCode).toBe(401);
      expect((errors[0]!.error as APIStatusError).retryable).toBe(false);
    } finally {
      await guarded.server.close();
    }
  });

  it('ends a stream the server closes mid-turn with its error, after the audio it did send', async () => {
    const impatient = await startServer(srv.voices, { idleTimeoutMs: 300 });
    try {
      const engine = new TTS({ url: impatient.ws });
      const errors: Parameters<tts.TTSCallbacks['error']>[0][] = [];
      engine.on('error', (e) => errors.push(e));
      const stream = engine.stream();
      // The LLM stalls after this: no more text, no end.
      stream.pushText('Hello there. And then');
      const chunks = await drain(stream);
      await expect(stream.outcome).rejects.toThrow(/idle_timeout/);
      // All of "Hello there." was sent before the timeout: its last frame ends the segment.
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.filter((c) => c.final)).toEqual([chunks[chunks.length - 1]]);
      expect(errors.map((e) => e.recoverable)).toEqual([false]);
    } finally {
      await impatient.server.close();
    }
  });

  it('ends the session, without crashing, when a server answers with something that is not MessagePack', async () => {
    const broken = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    broken.on('connection', (socket) => {
      socket.once('message', () => {
        socket.send(pack({ type: 'ready', session: 's', voice: 'v', emotions: ['neutral'], neutral: 'neutral', sampleRate: 48_000, limits: { maxBufferedText: 100 } }));
        socket.send(Buffer.from([0xc1, 0xff, 0x00]));
      });
    });
    await new Promise((resolve) => broken.once('listening', resolve));
    try {
      const engine = new TTS({ url: `ws://127.0.0.1:${(broken.address() as { port: number }).port}/v1/stream` });
      engine.on('error', () => undefined);
      const stream = engine.stream();
      stream.pushText('Anyone there?');
      stream.endInput();
      expect(await drain(stream)).toEqual([]);
      await expect(stream.outcome).rejects.toThrow(/closed before it was done/);
    } finally {
      broken.close();
    }
  });

  it('fails a stream with a clear, non-retryable error when the server refuses the voice', async () => {
    const engine = new TTS({ url: srv.ws, voice: 'no-such-voice' });
    const errors: Parameters<tts.TTSCallbacks['error']>[0][] = [];
    engine.on('error', (e) => errors.push(e));
    const stream = engine.stream();
    stream.pushText('Never spoken.');
    stream.endInput();
    expect(await drain(stream)).toEqual([]);
    await expect(stream.outcome).rejects.toThrow(/unknown_voice/);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.recoverable).toBe(false);
    expect(errors[0]!.error).toBeInstanceOf(APIStatusError);
    expect((errors[0]!.error as APIStatusError).statusCode).toBe(400);
    await engine.close();
  });

  it('refuses options the server would refuse, at construction', () => {
    expect(() => new TTS({ url: 'http://127.0.0.1:1/v1/stream' })).toThrow(/ws:\/\//);
    expect(() => new TTS({ url: srv.ws, speed: 9 })).toThrow(/speed/);
    expect(() => new TTS({ url: srv.ws, emotion: { happy: -1 } })).toThrow(/weights/);
    expect(() => new TTS({ url: srv.ws, sampleRate: 44_100 as 48_000 })).toThrow(/sampleRate/);
  });
});
