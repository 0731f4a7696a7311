// Work bounded by what a message costs, not by its bytes: a token of a thousand digits,
// a URL of kilobytes or letters and digits mixed become phrases of at most 30 spoken
// words; an HTTP request's audio is capped (413 audio_too_long).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spokenTokens } from '../src/pipeline/frontend/spoken-form.js';
import type { VoiceRegistry } from '../src/server/voices.js';
import { expectAccounted } from './reliability-harness.js';
import { loadFixtureVoices, startServer, TestClient, type RunningServer } from './server-harness.js';

let voices: VoiceRegistry;
let srv: RunningServer;

beforeAll(async () => {
  voices = await loadFixtureVoices();
  srv = await startServer(voices, { maxRequestAudioSeconds: 5 });
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

const spoken = (text: string) => spokenTokens(text).filter((t) => t.kind !== 'punct').length;

describe('tokens that read long', () => {
  it.each([
    ['1,000 digits', '9'.repeat(1000)],
    ['a 6,000-character URL', `https://example.com/${'x1/y2.z3?'.repeat(664)}`],
    ['8,000 letters and digits', 'q7w8e9'.repeat(1333)],
  ])('speaks %s as phrases of at most 30 spoken words, all accounted', async (_name, text) => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ format: 'pcm16', steps: 2 });
    client.send({ type: 'text', text });
    // The first phrase is short: audio comes while the rest waits its turn.
    await client.next('audio', 30_000);
    client.send({ type: 'cancel' });
    client.send({ type: 'end' });
    await client.closed;
    const phrases = client.of('phrase');
    expect(phrases.length).toBeGreaterThan(0);
    for (const p of phrases) expect(spoken(p.text)).toBeLessThanOrEqual(30);
    expect(client.of('error')).toEqual([]);
    expectAccounted(client, [text]);
  }, 60_000);
});

describe('POST /v1/speech audio cap', () => {
  const post = (text: string) =>
    fetch(`${srv.http}/v1/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, format: 'wav', speed: 0.25, steps: 2 }) });

  it('answers 413 audio_too_long past --max-request-audio-s, and speaks what fits', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `Sentence number ${i + 1} is rather slow today.`).join(' ');
    const refused = await post(long);
    expect(refused.status).toBe(413);
    expect((await refused.json()).error).toMatchObject({ code: 'audio_too_long', field: 'text' });
    const ok = await post('Short and slow.');
    expect(ok.status).toBe(200);
    expect((await ok.arrayBuffer()).byteLength).toBeGreaterThan(44);
  }, 60_000);
});

describe('text with nothing the voice can say', () => {
  it('flags the phrase silent over the WebSocket and speaks the rest', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ format: 'pcm16', steps: 2 });
    client.send({ type: 'text', text: '你好，世界。 مرحبا بالعالم. Then some English.' });
    client.send({ type: 'end' });
    await client.closed;
    const phrases = client.of('phrase');
    const silent = phrases.filter((p) => p.silent === true);
    expect(silent.length).toBeGreaterThan(0);
    for (const p of silent) expect(p).toMatchObject({ durationMs: 0, words: [] });
    expect(phrases.filter((p) => p.silent === undefined).flatMap((p) => p.words.map((w: { word: string }) => w.word))).toEqual(['then', 'some', 'english']);
    // Accounted as received: each phrase's text is a piece of the input, with no spaces added.
    // (The two short sentences open the stream: they are one phrase, see docs/protocol.md.)
    expect(phrases.map((p) => p.text)).toEqual(['你好，世界。 مرحبا بالعالم.', 'Then some English.']);
    expect(client.of('error')).toEqual([]);
  });

  it('answers 422 nothing_to_say over HTTP instead of an empty file', async () => {
    for (const text of ['你好，世界。', 'こんにちは', '안녕하세요', 'مرحبا', '… — !!']) {
      const res = await fetch(`${srv.http}/v1/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, format: 'wav' }) });
      expect(res.status, text).toBe(422);
      expect((await res.json()).error, text).toMatchObject({ code: 'nothing_to_say', field: 'text' });
    }
  });
});
