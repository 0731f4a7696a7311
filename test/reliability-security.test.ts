// Security limits that the other suites do not cover: the per-connection message
// rate, replies a client leaves unread, the queue of reference clips, secrets in
// the log, static-file paths generated to escape the web root, and request
// bodies streamed past the size limit. (Token and Origin checks on both
// transports, and the WebSocket size limit, are in server-errors and server-http.)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/server/logger.js';
import { Outbox, UNREAD_ALLOWANCE } from '../src/server/outbox.js';
import { createServer } from '../src/server/server.js';
import type { VoiceRegistry } from '../src/server/voices.js';
import { writeWav } from '../src/stream/wav.js';
import { expectAccounted, report, Rng } from './reliability-harness.js';
import { loadFixtureVoices, pack, sleep, startServer, testConfig, TestClient } from './server-harness.js';

let voices: VoiceRegistry;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  voices = await loadFixtureVoices();
}, 60_000);

afterAll(async () => {
  await voices?.close();
  report('security', figures);
});

describe('message rate per connection', () => {
  it('closes 4429 past the burst, reports the text it drops, and leaves other sessions alone', async () => {
    const srv = await startServer(voices, { maxMessagesPerSecond: 50 });
    try {
      const bystander = await TestClient.connect(srv.ws);
      await bystander.start();
      const flooder = await TestClient.connect(srv.ws);
      await flooder.start(); // 1 message
      flooder.send({ type: 'text', text: 'Accepted before the flood' }); // 2
      for (let i = 0; i < 100; i++) flooder.send({ type: 'emotion', weights: { happy: 1 } });
      expect((await flooder.closed).code).toBe(4429);
      const errors = flooder.of('error');
      expect(errors).toEqual([expect.objectContaining({ code: 'rate_limited', fatal: true })]);
      expect(flooder.messages.at(-1)).toBe(errors[0]);
      expectAccounted(flooder, ['Accepted before the flood']);

      bystander.send({ type: 'text', text: 'Not bothered.' });
      bystander.send({ type: 'end' });
      expect((await bystander.closed).code).toBe(1000);
      expect(bystander.of('error')).toEqual([]);
    } finally {
      await srv.server.close();
    }
  });

  it('lets a client send at the limit for as long as it likes', async () => {
    const srv = await startServer(voices, { maxMessagesPerSecond: 100 });
    try {
      const client = await TestClient.connect(srv.ws);
      await client.start();
      // 2.5 s at 80 a second, with bursts of 8.
      for (let i = 0; i < 25; i++) {
        for (let k = 0; k < 8; k++) client.send({ type: 'text', text: `${i * 8 + k} ` });
        await sleep(100);
      }
      client.send({ type: 'end' });
      expect((await client.closed).code).toBe(1000);
      expect(client.of('error')).toEqual([]);
    } finally {
      await srv.server.close();
    }
  });
});

describe('replies left unread', () => {
  /** A socket that never reports a send as written, as when the peer stops reading. */
  function stuckSocket(): { socket: WebSocket; sent: number[] } {
    const sent: number[] = [];
    const socket = { readyState: 1, send: (bytes: Buffer) => sent.push(bytes.length) } as unknown as WebSocket;
    return { socket, sent };
  }

  it('reports an overflow once, past the high-water mark plus the allowance', async () => {
    const { socket, sent } = stuckSocket();
    let overflows = 0;
    const highWater = 16_384;
    const outbox = new Outbox(socket, highWater, () => overflows++);
    const error = { type: 'error', code: 'bad_message', message: 'x'.repeat(100), fatal: false } as const;
    while (outbox.queuedBytes <= highWater + UNREAD_ALLOWANCE) outbox.send(error);
    expect(overflows).toBe(0); // called outside send(): a microtask later
    await Promise.resolve();
    expect(overflows).toBe(1);
    for (let i = 0; i < 100; i++) outbox.send(error);
    await Promise.resolve();
    expect(overflows).toBe(1);
    expect(sent.length).toBeGreaterThan(0);
  });

  it('closes 4429 a client that floods without reading, holding at most the allowance meanwhile', async () => {
    const highWaterBytes = 16_384;
    const srv = await startServer(voices, { highWaterBytes, maxMessagesPerSecond: 1_000_000 });
    try {
      const client = await TestClient.connect(srv.ws);
      await client.start();
      client.socket.pause();
      // Each draws an `error` of some 150 bytes; the kernel's socket buffers take megabytes first.
      const garbage = pack({ type: 'y'.repeat(64) });
      let peak = 0;
      let sent = 0;
      for (let round = 0; round < 400 && srv.server.sessions().some((s) => s.state !== 'closing'); round++) {
        for (let i = 0; i < 1000; i++) client.socket.send(garbage);
        sent += 1000;
        await sleep(5);
        peak = Math.max(peak, ...srv.server.sessions().map((s) => s.queuedBytes));
      }
      expect(srv.server.sessions().map((s) => s.state)).toEqual(['closing']);
      // The allowance, and the one reply that passed it.
      expect(peak).toBeLessThan(highWaterBytes + UNREAD_ALLOWANCE + 1024);
      client.socket.resume();
      expect((await client.closed).code).toBe(4429);
      expect(client.messages.at(-1)).toMatchObject({ type: 'error', code: 'rate_limited', fatal: true });
      figures.unreadFlood = { messagesSent: sent, peakQueuedBytes: peak };
    } finally {
      await srv.server.close();
    }
  }, 60_000);
});

describe('reference clips', () => {
  it('queues at most 4 and refuses more until one is answered', async () => {
    const srv = await startServer(voices);
    try {
      const client = await TestClient.connect(srv.ws);
      await client.start();
      const wav = writeWav(Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i / 10)), 16_000);
      for (let i = 0; i < 10; i++) client.send({ type: 'reference', name: `clip${i}`, audio: wav });
      client.send({ type: 'end' });
      expect((await client.closed).code).toBe(1000);
      const refused = client.of('error');
      expect(refused).toHaveLength(6);
      for (const e of refused) expect(e).toMatchObject({ code: 'rate_limited', field: 'audio', fatal: false });
      expect(client.of('emotionAdded').map((m) => m.name)).toEqual(['clip0', 'clip1', 'clip2', 'clip3']);
    } finally {
      await srv.server.close();
    }
  });
});

describe('secrets', () => {
  it('never writes the token to the log, whichever way it is sent, right or wrong', async () => {
    const token = 'tok-9f8e7d6c5b4a-secret';
    const lines: string[] = [];
    const config = testConfig({ authToken: token, logLevel: 'trace' });
    const server = createServer({ config, voices, logger: createLogger('trace', { write: (line: string) => void lines.push(line) }) });
    const { port } = await server.listen();
    const http = `http://127.0.0.1:${port}`;
    const ws = `ws://127.0.0.1:${port}/v1/stream`;
    try {
      const sessions = [
        await TestClient.connect(`${ws}?token=${token}`),
        await TestClient.connect(ws, { headers: { authorization: `Bearer ${token}` } }),
        await TestClient.connect(`${ws}?token=${token}x`),
        await TestClient.connect(ws, { headers: { authorization: `Bearer x${token}` } }),
      ];
      for (const client of sessions.slice(0, 2)) {
        await client.start();
        client.send({ type: 'text', text: `say ${token}` });
        client.send({ type: 'dance', token });
        client.send({ type: 'end' });
      }
      await Promise.all(sessions.map((c) => c.closed));
      const auth = { authorization: `Bearer ${token}` };
      await Promise.all([
        fetch(`${http}/v1/voices?token=${token}`),
        fetch(`${http}/metrics`, { headers: auth }),
        fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${token}-wrong` } }),
        fetch(`${http}/v1/speech?token=${token}`, { method: 'POST', body: `{"text": "${token}", "voice": 1}` }),
        fetch(`${http}/v1/speech`, { method: 'POST', headers: auth, body: 'not json' }),
        fetch(`${http}/nope/${token}?token=${token}`),
        fetch(`${http}/v1/voices`, { method: 'OPTIONS', headers: { origin: 'https://x.example', authorization: `Bearer ${token}` } }),
      ]);
      await sleep(100);
    } finally {
      await server.close();
    }
    const log = lines.join('');
    expect(log).toContain('session started');
    expect(log).not.toContain(token);
    figures.logLinesChecked = lines.length;
  });
});

describe('static files', () => {
  let web: string;
  let srv: Awaited<ReturnType<typeof startServer>>;
  const SECRET = 'outside-the-web-root';

  beforeAll(async () => {
    web = await mkdtemp(join(tmpdir(), 'emomix-traversal-'));
    await mkdir(join(web, 'root', 'sub'), { recursive: true });
    await writeFile(join(web, 'root', 'index.html'), '<!doctype html>');
    await writeFile(join(web, 'root', 'sub', 'page.txt'), 'inside');
    await writeFile(join(web, 'secret.txt'), SECRET);
    srv = await startServer(voices, { webDir: join(web, 'root') });
  });
  afterAll(async () => {
    await srv?.server.close();
    await rm(web, { recursive: true, force: true });
  });

  /** A raw GET: fetch() would normalise the very paths under test. */
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Node refuses to send raw non-ASCII or spaces: they go percent-encoded, as a browser sends them.
      const raw = path.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
      const req = request({ host: '127.0.0.1', port: srv.port, path: raw, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('never serves a file outside the web root, whatever the path', async () => {
    const rng = new Rng(7);
    const dots = ['..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%252e%252e', '%c0%ae%c0%ae', '．．', '%uff0e%uff0e', '...', '..;'];
    const slashes = ['/', '%2f', '%2F', '%5c', '\\', '%252f', '//', '/./', '%c0%af', '%00/'];
    const targets = ['secret.txt', 'secret.txt%00.html', 'SECRET.TXT', 'secret.txt/', 'secret.txt?x=1', 'secret.txt#x', `${'x'.repeat(300)}/../secret.txt`];
    const paths = new Set<string>(['/../secret.txt', '/sub/../../secret.txt', `/${join(web, 'secret.txt')}`, `//${join(web, 'secret.txt')}`, '/%2e%2e/secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt']);
    while (paths.size < 400) {
      const depth = rng.between(1, 4);
      const parts = Array.from({ length: depth }, () => rng.pick(dots) + rng.pick(slashes));
      paths.add(`/${rng.chance(0.3) ? 'sub/' : ''}${parts.join('')}${rng.pick(targets)}`);
    }
    const statuses: Record<number, number> = {};
    for (const path of paths) {
      const { status, body } = await get(path);
      statuses[status] = (statuses[status] ?? 0) + 1;
      expect(body, path).not.toContain(SECRET);
      expect([400, 404], path).toContain(status);
    }
    // What is inside is still served, by any spelling that stays inside.
    expect(await get('/sub/page.txt')).toEqual({ status: 200, body: 'inside' });
    expect(await get('/sub/../sub/%70age.txt')).toEqual({ status: 200, body: 'inside' });
    figures.traversalPaths = { tried: paths.size, statuses };
  });
});

describe('request bodies', () => {
  it('refuses a chunked body that grows past the limit with 413, without reading it all', async () => {
    const srv = await startServer(voices, { maxMessageBytes: 4096 });
    try {
      const result = await new Promise<{ status: number; body: string }>((resolve) => {
        const req = request({ host: '127.0.0.1', port: srv.port, path: '/v1/speech', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        // The server answers and closes while the body is still being written: a reset here is expected.
        req.on('error', () => undefined);
        // No content-length: the server only learns the size as chunks arrive. 1 MB is offered; it must stop early.
        const chunk = Buffer.alloc(1024, 0x20);
        let written = 0;
        const pump = () => {
          while (written < 1024 && req.write(chunk)) written++;
          if (written < 1024) req.once('drain', pump);
          else req.end();
        };
        pump();
      });
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'too_large' } });
    } finally {
      await srv.server.close();
    }
  });

  it('answers 413, not a reset, to a client that keeps sending a body up to twice the limit', async () => {
    const srv = await startServer(voices);
    try {
      // 3 MiB against the 2 MiB default: the rest is read and dropped, so the client sees
      // the answer rather than ECONNRESET.
      const body = Buffer.alloc(3 * 2 ** 20, 0x20);
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        outcomes.push(
          await new Promise<string>((resolve) => {
            const req = request({ host: '127.0.0.1', port: srv.port, path: '/v1/speech', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.statusCode)));
            });
            req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
            // In 64 KiB writes, a few ms apart, as a client on a real network sends.
            let offset = 0;
            const pump = (): void => {
              if (offset >= body.length) return void req.end();
              req.write(body.subarray(offset, (offset += 65_536)));
              setTimeout(pump, 2);
            };
            pump();
          }),
        );
      }
      expect(outcomes).toEqual(['413', '413', '413', '413', '413']);
    } finally {
      await srv.server.close();
    }
  });
});

