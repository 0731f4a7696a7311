// POST /v1/audio/speech driven by the official `openai` SDK against the real
// server: every response_format decoded back and timed against the reference
// (the same seeded speech from POST /v1/speech), streaming proven by holding the
// second phrase's synthesis until the first bytes have arrived, SSE events,
// OpenAI-shaped errors and the instructions grammar.
import { MPEGDecoder } from 'mpg123-decoder';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emotionFromInstructions } from '../src/server/routes/instructions.js';
import type { VoiceRegistry } from '../src/server/voices.js';
import { createOpusDecoder } from '../src/stream/opus.js';
import { readWav } from '../src/stream/wav.js';
import { packetsOf, parsePages } from './ogg-pages.js';
import { until } from './reliability-harness.js';
import { loadFixtureVoices, startServer, type RunningServer } from './server-harness.js';

let voices: VoiceRegistry;
let srv: RunningServer;
let client: OpenAI;
/** Seconds of the reference speech (48 kHz WAV from POST /v1/speech, same text and seed). */
let referenceS: number;

const INPUT = 'The quick brown fox jumps over the lazy dog. Then it runs away!';
const SEED = 7;

beforeAll(async () => {
  voices = await loadFixtureVoices();
  srv = await startServer(voices);
  client = new OpenAI({ apiKey: 'unused', baseURL: `${srv.http}/v1`, maxRetries: 0 });
  const res = await fetch(`${srv.http}/v1/speech`, { method: 'POST', body: JSON.stringify({ text: INPUT, seed: SEED, format: 'wav' }) });
  const wav = await readWav(new Uint8Array(await res.arrayBuffer()));
  referenceS = wav.samples.length / wav.sampleRate;
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

const speak = (format: 'mp3' | 'opus' | 'wav' | 'pcm', extra: Record<string, unknown> = {}) =>
  client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: INPUT, response_format: format, ...extra, seed: SEED } as OpenAI.Audio.SpeechCreateParams);

const rms = (x: ArrayLike<number>): number => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

describe('POST /v1/audio/speech with the openai SDK', () => {
  it('pcm: 16-bit mono at 24 kHz, as long as the reference to the sample', async () => {
    const res = await speak('pcm');
    expect(res.headers.get('content-type')).toContain('audio/pcm');
    expect(res.headers.get('x-emomix-voice')).toBe('tiny-voice');
    expect(res.headers.get('x-emomix-model')).toBe('tts-1');
    const bytes = Buffer.from(await res.arrayBuffer());
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    // Each phrase is halved from 48 kHz, rounding half a sample at most.
    expect(Math.abs(samples.length / 24_000 - referenceS)).toBeLessThan(0.001);
    expect(rms(samples) / 32768).toBeGreaterThan(0.005);
  });

  it('wav: a 24 kHz PCM16 WAV with streaming sizes, as long as the reference', async () => {
    const res = await speak('wav');
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const wav = await readWav(new Uint8Array(await res.arrayBuffer()));
    expect(wav.sampleRate).toBe(24_000);
    expect(Math.abs(wav.samples.length / 24_000 - referenceS)).toBeLessThan(0.001);
  });

  it('mp3 (the default): decodes with mpg123 to 24 kHz mono of the reference duration', async () => {
    const res = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'tiny-voice', input: INPUT, seed: SEED } as OpenAI.Audio.SpeechCreateParams);
    expect(res.headers.get('content-type')).toBe('audio/mpeg');
    const decoder = new MPEGDecoder();
    await decoder.ready;
    const decoded = decoder.decode(new Uint8Array(await res.arrayBuffer()));
    decoder.free();
    expect(decoded.errors).toEqual([]);
    expect(decoded.sampleRate).toBe(24_000);
    const channel = decoded.channelData[0]!;
    // LAME adds its encoder delay and pads the last frame: at most two 1152-sample frames more.
    const extraS = channel.length / 24_000 - referenceS;
    expect(extraS).toBeGreaterThanOrEqual(0);
    expect(extraS).toBeLessThan((2 * 1152) / 24_000);
    expect(rms(channel)).toBeGreaterThan(0.005);
  });

  it('opus: Ogg Opus whose last granule gives the reference duration, every packet decoding', async () => {
    const res = await speak('opus');
    expect(res.headers.get('content-type')).toBe('audio/ogg');
    const pages = parsePages(new Uint8Array(await res.arrayBuffer()));
    expect(pages.every((p) => p.crcOk)).toBe(true);
    const head = pages[0]!.body;
    const preSkip = head[10]! | (head[11]! << 8);
    const last = pages.at(-1)!;
    expect(last.flags & 4).toBe(4); // end of stream
    expect(Math.abs((Number(last.granule) - preSkip) / 48_000 - referenceS)).toBeLessThan(0.001);
    const decoder = createOpusDecoder();
    const decoded = packetsOf(pages)
      .slice(2)
      .reduce((n, p) => n + decoder.decode(p.data).length, 0);
    expect(decoded).toBeGreaterThanOrEqual(Number(last.granule));
  });

  it('aac and flac are refused with a 400 naming the formats offered', async () => {
    for (const format of ['aac', 'flac'] as const) {
      const error = await speak(format as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
      expect(apiError.message).toContain('mp3, opus, wav, pcm');
      expect(apiError.param).toBe('response_format');
    }
  });

  it('an unknown voice is a 400 in OpenAI error shape that lists the voices', async () => {
    const error = (await client.audio.speech.create({ model: 'tts-1', voice: 'nobody', input: 'Hi.' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.message).toContain('tiny-voice');
    expect(error.code).toBe('unknown_voice');
    expect(error.type).toBe('invalid_request_error');
  });

  it('a model name that cannot go back in a header is a 400 naming the field', async () => {
    const error = (await client.audio.speech.create({ model: 'tts-1\r\nx-evil: 1', voice: 'alloy', input: 'Hi.' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe('model');
  });

  it('speed outside 0.25–4 and input over 4096 characters are refused', async () => {
    await expect(speak('pcm', { speed: 5 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'a'.repeat(4097) })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('speed 2 speaks faster: shorter audio than speed 1', async () => {
    const slow = (await (await speak('pcm')).arrayBuffer()).byteLength;
    const fast = (await (await speak('pcm', { speed: 2 })).arrayBuffer()).byteLength;
    expect(fast).toBeLessThan(slow * 0.75);
  });

  it('instructions and the emotion extra set the mix, reported in x-emomix-emotion', async () => {
    const fromInstructions = await speak('pcm', { instructions: 'Sound happy 0.75 and a little sad 0.25.' });
    expect(fromInstructions.headers.get('x-emomix-emotion')).toBe('happy=0.75,sad=0.25');
    const freeText = await speak('pcm', { instructions: 'Speak in a cheerful tone.' });
    expect(freeText.headers.get('x-emomix-emotion')).toBe('happy=1');
    const extra = await speak('pcm', { emotion: { angry: 1 }, instructions: 'happy' });
    expect(extra.headers.get('x-emomix-emotion')).toBe('angry=1');
    const bad = await speak('pcm', { emotion: { bored: 1 } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as Error).message).toContain('bored');
  });

  it('reads emotion tags in the input unless markup is false; a bad tag is a 400 bad_markup', async () => {
    const tagged = 'Hello [emotion=happy:0.7,surprise:0.3]there, friend[/emotion]. Bye now.';
    const res = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: tagged, response_format: 'pcm' });
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const bad = (await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi [emotion=bored] there.' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.code).toBe('bad_markup');
    const plain = await speak('pcm', { input: 'Hi [emotion=bored] there.', markup: false });
    expect((await plain.arrayBuffer()).byteLength).toBeGreaterThan(0);
    const badInstructions = (await speak('pcm', { instructions: '[emotion=bored]' }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(badInstructions.code).toBe('bad_markup');
    expect(badInstructions.param).toBe('instructions');
  });

  it('streams: the first audio arrives while the second phrase is still held in synthesis', async () => {
    const voice = voices.get()!;
    const original = voice.engine.synthesize.bind(voice.engine);
    let calls = 0;
    let releaseSecond!: () => void;
    const held = new Promise<void>((resolve) => (releaseSecond = resolve));
    voice.engine.synthesize = async (...args) => {
      if (++calls === 2) await held;
      return original(...args);
    };
    try {
      const res = await speak('pcm');
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      expect(first.value!.length).toBeGreaterThan(0);
      // The first phrase goes out a second at a time; the second is then held in synthesis.
      await until(() => calls === 2, 10_000, 'the second phrase starting');
      releaseSecond();
      let total = first.value!.length;
      for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.length;
      expect(Math.abs(total / 2 / 24_000 - referenceS)).toBeLessThan(0.001);
    } finally {
      releaseSecond();
      voice.engine.synthesize = original;
    }
  });

  it('stream_format sse: speech.audio.delta events with base64 audio, then speech.audio.done', async () => {
    const res = await speak('pcm', { stream_format: 'sse' });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice(6)) as { type: string; audio?: string; usage?: Record<string, number> });
    const deltas = events.filter((e) => e.type === 'speech.audio.delta');
    expect(deltas.length).toBeGreaterThanOrEqual(2); // one per phrase
    expect(events.at(-1)!.type).toBe('speech.audio.done');
    expect(events.at(-1)!.usage!.input_tokens).toBe(INPUT.length);
    const bytes = deltas.reduce((n, e) => n + Buffer.from(e.audio!, 'base64').length, 0);
    expect(Math.abs(bytes / 2 / 24_000 - referenceS)).toBeLessThan(0.001);
  });

  it('uses the same token as the rest of the server', async () => {
    const guarded = await startServer(voices, { authToken: 'sesame' });
    try {
      const wrong = new OpenAI({ apiKey: 'wrong', baseURL: `${guarded.http}/v1`, maxRetries: 0 });
      const error = await wrong.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      const right = new OpenAI({ apiKey: 'sesame', baseURL: `${guarded.http}/v1`, maxRetries: 0 });
      const res = await right.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hi.', response_format: 'pcm' });
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    } finally {
      await guarded.server.close();
    }
  });
});

describe('instructions grammar', () => {
  const emotions = { emotions: ['neutral', 'happy', 'sad', 'angry', 'surprise'], neutral: 'neutral' };
  it('reads names, synonyms and weights in several spellings', () => {
    expect(emotionFromInstructions('happy', emotions)).toEqual({ happy: 1 });
    expect(emotionFromInstructions('Happy: 0.6, SAD=0.4', emotions)).toEqual({ happy: 0.6, sad: 0.4 });
    expect(emotionFromInstructions('angry 70%, surprised 30 %', emotions)).toEqual({ angry: 0.7, surprise: 0.3 });
    expect(emotionFromInstructions('Speak joyfully but calm 2', emotions)).toEqual({ happy: 1, neutral: 2 });
  });
  it('names no emotion: undefined (the voice stays neutral); names only unknown ones: undefined', () => {
    expect(emotionFromInstructions('Speak slowly and clearly.', emotions)).toBeUndefined();
    expect(emotionFromInstructions('happy 0', emotions)).toBeUndefined();
    expect(emotionFromInstructions('happy', { emotions: ['neutral', 'calm'], neutral: 'neutral' })).toBeUndefined();
  });
  it('takes an emotion tag of the markup, intensity included, and says what is wrong with a bad one', () => {
    expect(emotionFromInstructions('[emotion=happy:0.75,sad:0.25]', emotions)).toEqual({ happy: 0.75, sad: 0.25 });
    const half = emotionFromInstructions('Read this [emotion=angry intensity=0.5] please', emotions)!;
    expect(half.angry).toBeGreaterThan(0);
    expect(half.angry).toBeLessThan(1);
    expect(half.neutral).toBeGreaterThan(0);
    expect(() => emotionFromInstructions('[emotion=bored]', emotions)).toThrow(/bored/);
  });
});
