// HTTP routes on the stream's port: health, metrics, voices, POST /v1/speech
// (Ogg Opus checked page by page against RFC 3533/7845, WAV), static files.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpusDecoder } from '../src/stream/opus.js';
import type { VoiceRegistry } from '../src/server/voices.js';
import { packetsOf, parsePages } from './ogg-pages.js';
import { loadFixtureVoices, startServer, TestClient, type RunningServer } from './server-harness.js';

let voices: VoiceRegistry;
let srv: RunningServer;
let web: string;

beforeAll(async () => {
  voices = await loadFixtureVoices();
  web = await mkdtemp(join(tmpdir(), 'emomix-web-'));
  await mkdir(join(web, 'root'));
  await writeFile(join(web, 'root', 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(join(web, 'root', 'app.js'), 'console.log(1)');
  await writeFile(join(web, 'secret.txt'), 'outside the web root');
  await symlink(join(web, 'secret.txt'), join(web, 'root', 'escape.txt'));
  srv = await startServer(voices, { webDir: join(web, 'root') });
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
  await rm(web, { recursive: true, force: true });
});

const speech = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${srv.http}/v1/speech`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('service routes', () => {
  it('GET /health', async () => {
    const res = await fetch(`${srv.http}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', instance: expect.any(String), sessions: 0, maxSessions: 64, voices: ['tiny-voice'] });
  });

  it('GET /v1/voices', async () => {
    const body = await (await fetch(`${srv.http}/v1/voices`)).json();
    expect(body.default).toBe('tiny-voice');
    expect(body.voices).toEqual([
      expect.objectContaining({ id: 'tiny-voice', emotions: ['neutral', 'happy', 'sad', 'angry', 'surprise'], neutral: 'neutral', sampleRate: 16_000, steps: 4, default: true }),
    ]);
  });

  it('GET /metrics counts sessions, phrases, first audio, real-time factor and errors', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    client.send({ type: 'dance' });
    client.send({ type: 'text', text: 'Count me.' });
    client.send({ type: 'end' });
    await client.closed;
    const res = await fetch(`${srv.http}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(value(/^emomix_sessions_total\{voice="tiny-voice"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^emomix_sessions_active (\S+)$/m)).toBe(0);
    expect(value(/^emomix_phrases_total\{voice="tiny-voice",outcome="spoken"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^emomix_first_audio_seconds_count\{voice="tiny-voice"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^emomix_real_time_factor_count\{voice="tiny-voice"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^emomix_errors_total\{code="unknown_type"\} (\S+)$/m)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^emomix_process_resident_memory_bytes /m);
  });

  it('GET /v1/stream without an upgrade is 426; an upgrade elsewhere is refused', async () => {
    const plain = await fetch(`${srv.http}/v1/stream`);
    expect(plain.status).toBe(426);
    expect((await plain.json()).error.code).toBe('upgrade_required');
    await expect(TestClient.connect(`ws://127.0.0.1:${srv.port}/elsewhere`)).rejects.toThrow(/404/);
  });
});

describe('POST /v1/speech', () => {
  const body = { text: 'A whole file at once. With two sentences!', emotion: { happy: 1 }, seed: 11 };

  it('returns Ogg Opus written to spec, as long as the same request as WAV', async () => {
    const ogg = await speech({ ...body, format: 'ogg' });
    expect(ogg.status).toBe(200);
    expect(ogg.headers.get('content-type')).toBe('audio/ogg');
    const pages = parsePages(new Uint8Array(await ogg.arrayBuffer()));
    const packets = packetsOf(pages);
    const endingOn = (page: number) => packets.filter((p) => p.page === page).map((p) => p.data);

    expect(pages.every((p) => p.crcOk)).toBe(true);
    expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
    expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
    expect(pages[0]!.flags & 0x02).toBe(2); // beginning of stream
    expect(pages.at(-1)!.flags & 0x04).toBe(4); // end of stream

    // RFC 7845: OpusHead alone on the first page, OpusTags on the second, both with granule 0.
    const head = endingOn(0)[0]!;
    expect(endingOn(0)).toHaveLength(1);
    expect(Buffer.from(head.subarray(0, 8)).toString('latin1')).toBe('OpusHead');
    expect(head[8]).toBe(1); // version
    expect(head[9]).toBe(1); // mono
    const preSkip = head[10]! | (head[11]! << 8);
    expect(preSkip).toBeGreaterThan(0);
    expect(Buffer.from(endingOn(1)[0]!.subarray(0, 8)).toString('latin1')).toBe('OpusTags');
    expect(pages[0]!.granule).toBe(0n);
    expect(pages[1]!.granule).toBe(0n);

    // Audio pages: granule = 48 kHz samples decoded by the end of the page, increasing.
    const decoder = createOpusDecoder();
    let decoded = 0;
    for (let page = 2; page < pages.length; page++) {
      for (const packet of endingOn(page)) decoded += decoder.decode(packet).length;
      if (page < pages.length - 1) expect(pages[page]!.granule).toBe(BigInt(decoded));
    }
    // The last granule trims the padding: pre-skip plus the audio's exact length, which WAV gives.
    const wav = await speech({ ...body, format: 'wav' });
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    expect(wav.headers.get('x-emomix-phrases')).toBe(ogg.headers.get('x-emomix-phrases'));
    const wavBytes = Buffer.from(await wav.arrayBuffer());
    expect(wavBytes.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wavBytes.readUInt16LE(22)).toBe(1); // mono
    expect(wavBytes.readUInt32LE(24)).toBe(48_000);
    expect(wavBytes.readUInt16LE(34)).toBe(16);
    const samples = wavBytes.readUInt32LE(40) / 2;
    expect(samples).toBeGreaterThan(0);
    expect(pages.at(-1)!.granule).toBe(BigInt(preSkip + samples));
    expect(decoded).toBeGreaterThanOrEqual(preSkip + samples);
    expect(decoded - (preSkip + samples)).toBeLessThan(2 * 960);
  });

  it('reads emotion markup when asked: a tag acts like the starting mix it sets, and a bad one is refused', async () => {
    const wav = async (request: Record<string, unknown>) => {
      const res = await speech({ seed: 5, format: 'wav', ...request });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    const tagged = await wav({ text: '[emotion=sad]Hello there. Bye now.', emotion: { happy: 1 }, markup: true });
    expect(tagged.equals(await wav({ text: 'Hello there. Bye now.', emotion: { sad: 1 } }))).toBe(true);
    const back = await wav({ text: '[emotion=sad]Hello there. [/emotion]Bye now.', emotion: { happy: 1 }, markup: true });
    expect(back.equals(tagged)).toBe(false);
    // Without markup the brackets are text, spoken as such: a longer file.
    expect((await wav({ text: '[emotion=sad]Hello there. Bye now.', emotion: { happy: 1 } })).length).toBeGreaterThan(tagged.length);
    for (const text of ['Hi [emotion=joy] there.', 'Hi [emotion=sad:x] there.', 'Hi [emotion=sad']) {
      const res = await speech({ text, markup: true });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'bad_markup', field: 'text' });
    }
  });

  it('speaks a whole text as whole sentences, never cut early', async () => {
    for (const [text, sentences] of [
      ['The birch canoe slid on the smooth planks', 1],
      ['The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.', 2],
    ] as const) {
      const res = await speech({ text, format: 'wav', seed: 3 });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-emomix-phrases')).toBe(String(sentences));
      await res.arrayBuffer();
    }
  });

  it('refuses bad requests with JSON errors and stable codes', async () => {
    const cases: [unknown, number, string][] = [
      [{ format: 'wav' }, 400, 'invalid_field'],
      [{ text: 'hi', format: 'mp3' }, 400, 'invalid_field'],
      [{ text: 'hi', voice: 'nope' }, 400, 'unknown_voice'],
      [{ text: 'hi', emotion: { joy: 1 } }, 400, 'unknown_emotion'],
      [{ text: 'hi', emotion: { happy: -1 } }, 400, 'invalid_weights'],
      [{ text: 'hi', steps: 1000 }, 400, 'invalid_field'],
    ];
    for (const [request, status, code] of cases) {
      const res = await speech(request);
      expect({ request, status: res.status, code: (await res.json()).error.code }).toEqual({ request, status, code });
    }
    const notJson = await fetch(`${srv.http}/v1/speech`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.code).toBe('bad_message');
    const tooLong = await speech({ text: 'x '.repeat(10_000) });
    expect((await tooLong.json()).error.code).toBe('text_too_long');
    const noVoice = await speech({ text: 'hi', voice: 'nope' });
    expect((await noVoice.json()).error.message).toContain('voices: tiny-voice');
    const wrongMethod = await fetch(`${srv.http}/v1/speech`);
    expect(wrongMethod.status).toBe(405);
    expect((await wrongMethod.json()).error.code).toBe('method_not_allowed');
  });

  it('answers an unknown path with 404 listing the routes, whatever the method; a known path with the wrong method with 405', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'GET']) {
      const res = await fetch(`${srv.http}/v1/nowhere`, { method });
      expect({ method, status: res.status }).toEqual({ method, status: 404 });
      const { error } = await res.json();
      expect(error.code).toBe('not_found');
      expect(error.message).toContain(`no route ${method} /v1/nowhere`);
      for (const route of ['GET /health', 'GET /v1/voices', 'POST /v1/speech', 'POST /v1/audio/speech', 'GET /v1/stream']) expect(error.message).toContain(route);
    }
    const wrong = await fetch(`${srv.http}/v1/audio/speech`);
    expect(wrong.status).toBe(405);
    expect((await wrong.json()).error.message).toContain('POST');
  });

  it('refuses a body over the size limit with 413', async () => {
    const small = await startServer(voices, { maxMessageBytes: 1024 });
    try {
      const res = await fetch(`${small.http}/v1/speech`, { method: 'POST', body: JSON.stringify({ text: 'y'.repeat(5000) }) });
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('too_large');
    } finally {
      await small.server.close();
    }
  });
});

describe('auth and origins over HTTP', () => {
  it('needs the token for /v1 and /metrics, not for /health; answers CORS for allowed origins', async () => {
    const secured = await startServer(voices, { authToken: 'tok', allowedOrigins: ['https://app.example'] });
    try {
      expect((await fetch(`${secured.http}/health`)).status).toBe(200);
      for (const path of ['/metrics', '/v1/voices']) {
        const res = await fetch(`${secured.http}${path}`);
        expect(res.status).toBe(401);
        expect((await res.json()).error.code).toBe('unauthorized');
        expect((await fetch(`${secured.http}${path}`, { headers: { authorization: 'Bearer tok' } })).status).toBe(200);
      }
      expect((await fetch(`${secured.http}/v1/voices?token=tok`)).status).toBe(200);
      const evil = await fetch(`${secured.http}/v1/voices`, { headers: { authorization: 'Bearer tok', origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
      expect((await evil.json()).error.code).toBe('forbidden_origin');
      const preflight = await fetch(`${secured.http}/v1/speech`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    } finally {
      await secured.server.close();
    }
  });
});

/** GET with the path sent exactly as written (fetch would normalise ".."). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files', () => {
  it('serves the web client at / and its files with their types', async () => {
    const index = await fetch(`${srv.http}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('studio');
    const js = await fetch(`${srv.http}/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('never leaves the web root', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/escape.txt', '/..\\secret.txt', '/%00', '/%E0%A4%A']) {
      const res = await rawGet(srv.port, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('outside the web root');
    }
  });

  it('answers 404 at / when there is no web client', async () => {
    const bare = await startServer(voices, { webDir: join(web, 'missing') });
    try {
      const res = await fetch(`${bare.http}/`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('not_found');
    } finally {
      await bare.server.close();
    }
  });
});
