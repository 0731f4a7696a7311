// Every error code of protocol v1 over a real socket: each bad input gets an
// `error` with its stable code, the session and its neighbours carry on, and
// fatal errors close with their 4xxx code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedVoice, VoiceRegistry } from '../src/server/voices.js';
import { loadFixtureVoices, pack, sleep, startServer, TestClient, wordsOf, type RunningServer } from './server-harness.js';
import { until } from './reliability-harness.js';

let voices: VoiceRegistry;
let srv: RunningServer;

beforeAll(async () => {
  voices = await loadFixtureVoices();
  srv = await startServer(voices, { maxBufferedText: 200 });
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

type Input = Record<string, unknown> | Buffer | string;

/** Sends one input and returns the error it drew. */
async function errorFor(client: TestClient, input: Input): Promise<Record<string, unknown>> {
  const reply = client.next((m) => m.type === 'error' || m.type === 'ready');
  if (typeof input === 'string') client.socket.send(input); // a text frame
  else if (Buffer.isBuffer(input)) client.socket.send(input, { binary: true });
  else client.send(input);
  const message = await reply;
  expect(message.type).toBe('error');
  return message;
}

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const noise = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));

describe('non-fatal errors', () => {
  const beforeStart: [string, Input, string, string?][] = [
    ['text before start', { type: 'text', text: 'hi' }, 'not_started'],
    ['cancel before start', { type: 'cancel' }, 'not_started'],
    ['unknown voice', { type: 'start', voice: 'nope' }, 'unknown_voice', 'voice'],
    ['unknown emotion', { type: 'start', emotion: { joy: 1 } }, 'unknown_emotion', 'emotion'],
    ['negative weight', { type: 'start', emotion: { happy: -1 } }, 'invalid_weights', 'emotion.happy'],
    ['NaN weight', { type: 'start', emotion: { happy: NaN } }, 'invalid_weights', 'emotion.happy'],
    ['infinite weight', { type: 'start', emotion: { happy: Infinity } }, 'invalid_weights', 'emotion.happy'],
    ['all-zero weights', { type: 'start', emotion: { happy: 0 } }, 'invalid_weights', 'emotion'],
    ['weights not a map', { type: 'start', emotion: 'happy' }, 'invalid_weights', 'emotion'],
    ['steps of the wrong type', { type: 'start', steps: 'four' }, 'invalid_field', 'steps'],
    ['steps over the server limit', { type: 'start', steps: 101 }, 'invalid_field', 'steps'],
    ['unknown format', { type: 'start', format: 'mp3' }, 'invalid_field', 'format'],
    ['speed out of range', { type: 'start', speed: 0 }, 'invalid_field', 'speed'],
    ['fractional seed', { type: 'start', seed: 1.5 }, 'invalid_field', 'seed'],
  ];

  const afterStart: [string, Input, string, string?][] = [
    ['reserved byte', hex('c1'), 'bad_message'],
    ['truncated map', hex('82 a4 74797065'), 'bad_message'],
    ['trailing bytes', Buffer.concat([pack({ type: 'flush' }), hex('00')]), 'bad_message'],
    ['timestamp extension', hex('82 a4 74797065 a4 74657874 a4 74657874 d6 ff 00000000'), 'bad_message'],
    ['msgpackr record definition', hex('d4 72 40'), 'bad_message'],
    ['integer map key', hex('81 01 01'), 'bad_message'],
    ['text frame', '{"type":"text","text":"hi"}', 'bad_message'],
    ['array instead of map', pack([1, 2]), 'bad_message'],
    ['random bytes', noise, 'bad_message'],
    ['unknown type', { type: 'dance' }, 'unknown_type', 'type'],
    ['missing type', { text: 'hi' }, 'unknown_type', 'type'],
    ['numeric type', { type: 1 }, 'unknown_type', 'type'],
    ['second start', { type: 'start' }, 'already_started'],
    ['text not a string', { type: 'text', text: 5 }, 'invalid_field', 'text'],
    ['text missing', { type: 'text' }, 'invalid_field', 'text'],
    ['binary text', { type: 'text', text: Buffer.from('hi') }, 'invalid_field', 'text'],
    ['emotion with unknown name', { type: 'emotion', weights: { joy: 1 } }, 'unknown_emotion', 'weights'],
    ['emotion with negative weight', { type: 'emotion', weights: { happy: -1 } }, 'invalid_weights', 'weights.happy'],
    ['negative ramp', { type: 'emotion', weights: { happy: 1 }, rampMs: -5 }, 'invalid_field', 'rampMs'],
    ['reference with a bad name', { type: 'reference', name: 'bad name!', audio: noise }, 'invalid_field', 'name'],
    ["reference named like the voice's emotion", { type: 'reference', name: 'happy', audio: noise }, 'invalid_field', 'name'],
    ['reference audio as a string', { type: 'reference', name: 'mine', audio: 'RIFF' }, 'invalid_field', 'audio'],
    ['reference audio that is no WAV', { type: 'reference', name: 'mine', audio: noise }, 'bad_reference', 'audio'],
    ['text over the buffered limit', { type: 'text', text: 'x'.repeat(201) }, 'text_too_long', 'text'],
  ];

  it('answers each bad input with its code, and the session still works', async () => {
    const client = await TestClient.connect(srv.ws);
    for (const [what, input, code, field] of beforeStart) {
      const error = await errorFor(client, input);
      expect({ what, code: error.code, field: error.field, fatal: error.fatal }).toEqual({ what, code, field, fatal: false });
      expect(typeof error.message).toBe('string');
    }
    expect((await client.start()).type).toBe('ready');
    for (const [what, input, code, field] of afterStart) {
      const error = await errorFor(client, input);
      expect({ what, code: error.code, field: error.field, fatal: error.fatal }).toEqual({ what, code, field, fatal: false });
    }
    // Rejected text is not accepted: only the valid text is spoken.
    client.send({ type: 'text', text: 'Still here.' });
    client.send({ type: 'end' });
    await client.next('done');
    expect(client.of('phrase').map((p) => p.text)).toEqual(['Still here.']);
    expect(await client.closed).toEqual({ code: 1000, reason: 'done' });
  }, 30_000);

  it('says what was wrong where a client most likely erred: JSON in a binary frame, a voice that is not there', async () => {
    const client = await TestClient.connect(srv.ws);
    const json = await errorFor(client, Buffer.from('{"type": "start", "voice": "tiny-voice"}\n'));
    expect(json).toMatchObject({ code: 'bad_message', fatal: false });
    expect(json.message).toContain('holds JSON');
    expect(json.message).toContain('MessagePack');
    const voice = await errorFor(client, { type: 'start', voice: 'nope' });
    expect(voice.message).toBe('unknown voice "nope"; voices: tiny-voice');
    expect((await client.start()).type).toBe('ready');
    client.socket.close();
  });

  it('rejects input after end with "ended"', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ pacing: 'realtime' });
    client.send({ type: 'text', text: 'One more thing to say before I go.' });
    client.send({ type: 'end' });
    const error = await errorFor(client, { type: 'text', text: 'too late' });
    expect(error).toMatchObject({ code: 'ended', fatal: false });
    expect((await client.closed).code).toBe(1000);
  });

  it('keeps other sessions streaming while one sends garbage', async () => {
    const good = await TestClient.connect(srv.ws);
    const bad = await TestClient.connect(srv.ws);
    await good.start();
    await bad.start();
    const text = 'The good session keeps talking. It is not bothered at all.';
    good.send({ type: 'text', text });
    for (let i = 0; i < 200; i++) bad.socket.send(Buffer.from(Array.from({ length: 1 + (i % 50) }, (_, j) => (i * 31 + j * 7) & 0xff)));
    good.send({ type: 'end' });
    await good.next('done');
    expect(good.of('error')).toEqual([]);
    expect(good.of('phrase').flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(text));
    await sleep(50);
    expect(bad.of('error').length).toBe(200);
    expect(bad.of('error').every((e) => e.fatal === false)).toBe(true);
    bad.socket.close();
  });

  it('reports a phrase whose synthesis fails, and goes on', async () => {
    // A voice whose engine is closed under the session: every synthesis fails.
    const broken = await loadFixtureVoices();
    const server = await startServer(broken);
    try {
      const client = await TestClient.connect(server.ws);
      await client.start();
      await broken.close();
      client.send({ type: 'text', text: 'This will fail.' });
      client.send({ type: 'end' });
      const done = await client.next('done');
      const [error] = client.of('error');
      expect(error).toMatchObject({ code: 'synthesis_failed', fatal: false, phrase: 1, text: 'This will fail.' });
      expect(done.stats).toMatchObject({ phrases: 0, failedPhrases: 1 });
      expect((await client.closed).code).toBe(1000);
    } finally {
      await server.server.close();
    }
  });
});

/**
 * The fixture voices plus two faults no client input can cause: asking for voice
 * "explode" throws inside the server, and voice "broken" synthesizes a result the
 * delivery stage cannot handle (no word list), which breaks the session's pipeline.
 */
function faultyVoices(): VoiceRegistry {
  const real = voices.get()!;
  const broken = {
    ...real,
    info: { ...real.info, id: 'broken' },
    engine: { synthesize: async () => ({ audio: new Float32Array(1600), words: null, emotion: { course: [{ atMs: 0, from: new Map([['neutral', 1]]) }] }, timings: { totalMs: 1 } }) },
  } as unknown as ServedVoice;
  const registry = Object.create(voices) as VoiceRegistry;
  registry.get = (id?: string) => {
    if (id === 'explode') throw new Error('a bug');
    return id === 'broken' ? broken : voices.get(id);
  };
  return registry;
}

describe('internal errors', () => {
  it('answers an unexpected failure handling a message with "internal", and the session goes on', async () => {
    const server = await startServer(faultyVoices());
    try {
      const client = await TestClient.connect(server.ws);
      const error = await errorFor(client, { type: 'start', voice: 'explode' });
      expect(error).toMatchObject({ code: 'internal', fatal: false });
      expect(error.message).not.toContain('a bug');
      expect((await client.start()).type).toBe('ready');
      client.send({ type: 'text', text: 'Still fine.' });
      client.send({ type: 'end' });
      expect((await client.closed).code).toBe(1000);
    } finally {
      await server.server.close();
    }
  });

  it('closes 4500 when the session pipeline breaks, reporting the text it will not speak; other sessions carry on', async () => {
    const server = await startServer(faultyVoices());
    try {
      const bystander = await TestClient.connect(server.ws);
      await bystander.start();
      const client = await TestClient.connect(server.ws);
      await client.start({ voice: 'broken' });
      client.send({ type: 'text', text: 'The first sentence breaks. The second one is never spoken.' });
      expect((await client.closed).code).toBe(4500);
      expect(client.messages.at(-1)).toMatchObject({ type: 'error', code: 'internal', fatal: true });
      expect(client.of('cancelled')[0]!.text).toContain('The second one is never spoken.');

      bystander.send({ type: 'text', text: 'Unaffected.' });
      bystander.send({ type: 'end' });
      await bystander.next('done');
      expect(bystander.of('error')).toEqual([]);
      expect((await bystander.closed).code).toBe(1000);
    } finally {
      await server.server.close();
    }
  });
});

describe('fatal errors', () => {
  async function refused(server: RunningServer, url: string, headers: Record<string, string> = {}) {
    const client = await TestClient.connect(url, { headers });
    const closed = await client.closed;
    return { error: client.of('error')[0], closed };
  }

  it('closes 4401 without the token, accepts it as a header or ?token=', async () => {
    const server = await startServer(voices, { authToken: 's3cret' });
    try {
      for (const [url, headers] of [
        [server.ws, {}],
        [server.ws, { authorization: 'Bearer wrong' }],
        [`${server.ws}?token=wrong`, {}],
      ] as const) {
        const { error, closed } = await refused(server, url, headers);
        expect(error).toMatchObject({ type: 'error', code: 'unauthorized', fatal: true });
        expect(closed.code).toBe(4401);
      }
      const byHeader = await TestClient.connect(server.ws, { headers: { authorization: 'Bearer s3cret' } });
      expect((await byHeader.start()).type).toBe('ready');
      const byQuery = await TestClient.connect(`${server.ws}?token=s3cret`);
      expect((await byQuery.start()).type).toBe('ready');
      byHeader.socket.close();
      byQuery.socket.close();
    } finally {
      await server.server.close();
    }
  });

  it('closes 4403 for an Origin not on the allow-list', async () => {
    const server = await startServer(voices, { allowedOrigins: ['https://studio.example'] });
    try {
      const { error, closed } = await refused(server, server.ws, { origin: 'https://evil.example' });
      expect(error).toMatchObject({ code: 'forbidden_origin', fatal: true });
      expect(closed.code).toBe(4403);
      const allowed = await TestClient.connect(server.ws, { headers: { origin: 'https://studio.example' } });
      expect((await allowed.start()).type).toBe('ready');
      allowed.socket.close();
    } finally {
      await server.server.close();
    }
  });

  it('closes 4503 past the session limit', async () => {
    const server = await startServer(voices, { maxSessions: 1 });
    try {
      const first = await TestClient.connect(server.ws);
      await first.start();
      const { error, closed } = await refused(server, server.ws);
      expect(error).toMatchObject({ code: 'server_busy', fatal: true });
      expect(closed.code).toBe(4503);
      first.socket.close();
    } finally {
      await server.server.close();
    }
  });

  it('closes 4408 after the idle timeout', async () => {
    const server = await startServer(voices, { idleTimeoutMs: 300 });
    try {
      const client = await TestClient.connect(server.ws);
      await client.start();
      const closed = await client.closed;
      expect(client.of('error')[0]).toMatchObject({ code: 'idle_timeout', fatal: true });
      expect(closed.code).toBe(4408);
    } finally {
      await server.server.close();
    }
  });

  it('closes 4408 a client that keeps sending but never reads, within the idle timeout', async () => {
    const idleTimeoutMs = 1500;
    const server = await startServer(voices, { idleTimeoutMs, highWaterBytes: 16_384, chunkMs: 100 });
    try {
      const client = await TestClient.connect(server.ws);
      await client.start({ format: 'pcm16' });
      // The kernel buffers on both sides absorb some audio before the server's outbox fills.
      client.socket.pause();
      client.send({ type: 'text', text: 'Nobody is listening to this sentence at all. '.repeat(40) });
      // A message every 200 ms: each used to reset the idle timer.
      const ticker = setInterval(() => client.send({ type: 'flush' }), 200);
      // The client reads nothing, the server's close frame included: watch the server's side.
      const closingAfter = await until(() => server.server.sessions()[0]?.state !== 'streaming', 30_000, 'the server closing the session');
      clearInterval(ticker);
      // Bounded by the idle timeout plus a ping interval (generous for a busy machine).
      expect(closingAfter).toBeLessThan(idleTimeoutMs + 10_000);
      client.socket.resume();
      expect((await client.closed).code).toBe(4408);
      expect(client.of('error').at(-1)).toMatchObject({ code: 'idle_timeout', fatal: true });
    } finally {
      await server.server.close();
    }
  });

  it('closes 1009 for a message over the size limit', async () => {
    const server = await startServer(voices, { maxMessageBytes: 1024 });
    try {
      const client = await TestClient.connect(server.ws);
      await client.start();
      client.send({ type: 'text', text: 'x'.repeat(2000) });
      expect((await client.closed).code).toBe(1009);
      // The server is fine.
      const next = await TestClient.connect(server.ws);
      expect((await next.start()).type).toBe('ready');
      next.socket.close();
    } finally {
      await server.server.close();
    }
  });
});
