// Numbers and clips refused for what they would do, where they enter: weights whose sum
// overflows, temperatures that give silence, reference clips with non-finite or extreme
// samples, too long or at rates too low to resample cheaply. Nothing accepted fails later,
// and no error carries the engine's or a library's internal message.
import { describe, expect, it } from 'vitest';
import { writeWav } from '../src/stream/wav.js';
import { floatWav, tone } from './clip-fixtures.js';
import { serveFixture, TestClient } from './server-harness.js';

const srv = serveFixture();



const speech = (body: Record<string, unknown>) =>
  fetch(`${srv.http}/v1/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Hello there.', format: 'wav', ...body }) });

/** Words a message must not contain: the engine's codes for internals and the libraries' own vocabulary. */
const INTERNAL = /onnx|worker|mediabunny|libsamplerate|stack|\bat \w+ \(|Error:|\.ts\b|\.js\b/i;

describe('numbers validated for what they do', () => {
  it('refuses weights whose sum overflows in start, emotion and over HTTP', async () => {
    const client = await TestClient.connect(srv.ws);
    expect(await client.start({ emotion: { happy: 1e308, sad: 1e308 } })).toMatchObject({ type: 'error', code: 'invalid_weights', field: 'emotion', fatal: false });
    expect(await client.start()).toMatchObject({ type: 'ready' });
    const refused = client.next('error');
    client.send({ type: 'emotion', weights: { happy: 1e308, sad: 1.7e308 } });
    expect(await refused).toMatchObject({ code: 'invalid_weights', field: 'weights' });
    // The session's mix is untouched: its phrases speak.
    client.send({ type: 'text', text: 'Still speaking.' });
    client.send({ type: 'end' });
    await client.closed;
    expect(client.of('error')).toHaveLength(2);
    expect(client.of('done')[0]!.stats).toMatchObject({ phrases: 1, failedPhrases: 0 });

    const res = await speech({ emotion: { happy: 1e308, sad: 1e308 } });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'invalid_weights', field: 'emotion' });
  });

  it('refuses temperatures below 0.1 (1e-300 gave silence) and speaks at 0.1', async () => {
    const client = await TestClient.connect(srv.ws);
    expect(await client.start({ temperature: 1e-300 })).toMatchObject({ type: 'error', code: 'invalid_field', field: 'temperature' });
    expect((await speech({ temperature: 1e-300 })).status).toBe(400);
    const res = await speech({ temperature: 0.1, seed: 1 });
    expect(res.status).toBe(200);
    const wav = new Int16Array((await res.arrayBuffer()).slice(44));
    const rms = Math.sqrt(wav.reduce((s, v) => s + v * v, 0) / wav.length);
    expect(wav.length).toBeGreaterThan(0);
    expect(rms).toBeGreaterThan(10);
  });
});

describe('reference clips refused where they enter', () => {
  async function referenceReply(client: TestClient, name: string, audio: Uint8Array) {
    const reply = client.next((m) => (m.type === 'error' && m.code === 'bad_reference') || m.type === 'emotionAdded');
    client.send({ type: 'reference', name, audio });
    return reply;
  }

  it('answers bad_reference, in its own words, for non-finite, overflowing, too long, too slow and undecodable clips; the session speaks on', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ format: 'pcm16' });
    const withNaN = tone(2, 16_000);
    withNaN[100] = Number.NaN;
    const huge = tone(2, 16_000).map((v) => (v > 0 ? 3e38 : -3e38));
    const cases: [string, Uint8Array, RegExp][] = [
      ['nan', floatWav(withNaN, 16_000), /not finite/],
      ['huge', floatWav(huge, 16_000), /too loud/],
      // 2 minutes at 100 Hz: froze the main thread for 20 s while being resampled.
      ['slow', writeWav(new Float32Array(12_000), 100), /8000–192000 Hz/],
      // 60 s at 16 kHz: a legitimate recording, but past the 30 s limit.
      ['long', writeWav(tone(60, 16_000), 16_000), /at most 30 s/],
      ['garbage', new Uint8Array(Buffer.from('RIFF....WAVEfmt definitely not a wav file')), /not a WAV file/],
    ];
    for (const [name, audio, why] of cases) {
      const reply = await referenceReply(client, name, audio);
      expect(reply, name).toMatchObject({ type: 'error', code: 'bad_reference', field: 'audio', fatal: false });
      expect(reply.message, name).toMatch(why);
      expect(reply.message, name).not.toMatch(INTERNAL);
    }
    expect(await referenceReply(client, 'calm', writeWav(tone(3, 16_000), 16_000))).toMatchObject({ type: 'emotionAdded', name: 'calm' });
    // None of the refused clips reached the session's emotions: every phrase speaks.
    client.send({ type: 'emotion', weights: { calm: 1 } });
    client.send({ type: 'text', text: 'The clip was fine. So was this.' });
    client.send({ type: 'end' });
    await client.closed;
    expect(client.of('done')[0]!.stats).toMatchObject({ failedPhrases: 0 });
    expect(client.of('done')[0]!.stats.phrases).toBeGreaterThan(0);
  });

  it('refuses the name __proto__', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    const reply = client.next('error');
    client.send({ type: 'reference', name: '__proto__', audio: writeWav(tone(1, 16_000), 16_000) });
    expect(await reply).toMatchObject({ code: 'invalid_field', field: 'name' });
    client.socket.close();
  });
});
