// A voice trained on several speakers, end to end through the server: GET /v1/voices lists
// its speakers, `speaker` in `start` and POST /v1/speech picks one, an unknown one is refused,
// and a one-speaker voice (contract version 2, the tiny voice) keeps its single "default" speaker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VoiceRegistry } from '../src/server/voices.js';
import { FIXTURE_MODELS, FIXTURE_VOICE, startServer, TestClient, type RunningServer } from './server-harness.js';

const SPEAKERS_VOICE = 'tiny-voice-speakers';
let voices: VoiceRegistry;
let srv: RunningServer;

beforeAll(async () => {
  voices = await VoiceRegistry.load({ modelsDir: FIXTURE_MODELS, defaultVoice: FIXTURE_VOICE, extraVoices: [SPEAKERS_VOICE], workers: 1, intraOpThreads: 1 });
  srv = await startServer(voices);
});
afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

const speech = (body: Record<string, unknown>) =>
  fetch(`${srv.http}/v1/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The samples of a 16-bit WAV body (after its 44-byte header). */
async function samples(res: Response): Promise<Int16Array> {
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return new Int16Array(bytes.buffer.slice(44, bytes.length - (bytes.length % 2)));
}

function rmsDifference(a: Int16Array, b: Int16Array): number {
  const n = Math.min(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum / Math.max(n, 1));
}

describe('speakers', () => {
  it('GET /v1/voices lists each voice\'s speakers and the emotions each was recorded in', async () => {
    const body = await (await fetch(`${srv.http}/v1/voices`)).json();
    const byId = Object.fromEntries(body.voices.map((v: { id: string }) => [v.id, v]));
    expect(byId[FIXTURE_VOICE].speakers).toEqual([{ id: 'default', name: 'Tiny test voice', emotions: ['neutral', 'happy', 'sad', 'angry', 'surprise'] }]);
    expect(byId[SPEAKERS_VOICE].speakers).toEqual([
      { id: '0011', name: 'Speaker 0011', emotions: ['neutral', 'happy', 'sad', 'angry', 'surprise'] },
      { id: '0012', name: 'Speaker 0012', emotions: ['neutral', 'happy', 'sad', 'angry'] },
    ]);
  });

  it('POST /v1/speech speaks with the speaker asked for, reproducibly', async () => {
    const base = { text: 'Two speakers, one voice.', voice: SPEAKERS_VOICE, emotion: { happy: 0.7, sad: 0.3 }, seed: 5, format: 'wav' };
    const first = await samples(await speech({ ...base, speaker: '0011' }));
    const again = await samples(await speech({ ...base, speaker: '0011' }));
    const second = await samples(await speech({ ...base, speaker: '0012' }));
    const byDefault = await samples(await speech(base));
    expect(first.length).toBeGreaterThan(1000);
    expect(rmsDifference(first, again)).toBe(0);
    expect(rmsDifference(first, byDefault)).toBe(0);
    // Another speaker embedding conditions every graph: the audio changes throughout.
    expect(rmsDifference(first, second)).toBeGreaterThan(10);
  });

  it('refuses a speaker the voice does not have, over HTTP and WebSocket', async () => {
    const res = await speech({ text: 'Nobody.', voice: SPEAKERS_VOICE, speaker: '0099' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: 'unknown_speaker', field: 'speaker' });
    const client = await TestClient.connect(srv.ws);
    const answer = await client.start({ voice: FIXTURE_VOICE, speaker: '0011' });
    expect(answer).toMatchObject({ type: 'error', code: 'unknown_speaker', field: 'speaker', fatal: false });
    const ready = await client.start({ voice: SPEAKERS_VOICE, speaker: '0012', format: 'pcm16' });
    expect(ready).toMatchObject({ type: 'ready', voice: SPEAKERS_VOICE, speaker: '0012' });
    client.send({ type: 'text', text: 'Spoken by the second speaker.' });
    client.send({ type: 'end' });
    const done = await client.next('done');
    expect(done.stats.phrases).toBe(1);
    expect(done.stats.audioMs).toBeGreaterThan(100);
    await client.closed;
  });
});
