// Readiness and liveness for load balancers: /health turns 503 when the
// instance is full or leaving, /health/live stays 200; `ready` and /health name
// the instance; the drain delay keeps admitting while /health says draining.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceIdOf, readinessOf } from '../src/server/health.js';
import type { VoiceRegistry } from '../src/server/voices.js';
import { loadFixtureVoices, sleep, startServer, TestClient, wordsOf } from './server-harness.js';

let voices: VoiceRegistry;
beforeAll(async () => {
  voices = await loadFixtureVoices();
}, 60_000);
afterAll(async () => {
  await voices?.close();
});

const health = async (base: string) => {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('readinessOf', () => {
  it('is ok below the limit, full at it, draining when leaving whatever the load', () => {
    expect(readinessOf(false, { used: 1, max: 2 })).toBe('ok');
    expect(readinessOf(false, { used: 2, max: 2 })).toBe('full');
    expect(readinessOf(true, { used: 0, max: 2 })).toBe('draining');
  });

  it('names an unnamed instance by host and process', () => {
    expect(instanceIdOf('tts-7')).toBe('tts-7');
    expect(instanceIdOf(undefined)).toMatch(new RegExp(`-${process.pid}$`));
  });
});

describe('/health and /health/live', () => {
  it('say 503 full at the session limit and 200 again when a slot frees; liveness stays 200; ready names the instance', async () => {
    const srv = await startServer(voices, { maxSessions: 2, instanceId: 'tts-a' });
    try {
      expect(await health(srv.http)).toMatchObject({ status: 200, body: { status: 'ok', instance: 'tts-a', sessions: 0, maxSessions: 2 } });
      const first = await TestClient.connect(srv.ws);
      expect(await first.start()).toMatchObject({ type: 'ready', instance: 'tts-a' });
      const second = await TestClient.connect(srv.ws);
      await second.start();
      expect(await health(srv.http)).toMatchObject({ status: 503, body: { status: 'full', instance: 'tts-a', sessions: 2, maxSessions: 2 } });
      const live = await fetch(`${srv.http}/health/live`);
      expect({ status: live.status, body: await live.json() }).toEqual({ status: 200, body: { status: 'live', instance: 'tts-a' } });
      second.socket.close();
      await second.closed;
      await expect.poll(async () => (await health(srv.http)).status).toBe(200);
      first.socket.close();
    } finally {
      await srv.server.close();
    }
  }, 30_000);

  it('during the drain delay: 503 draining, yet a new session is admitted and spoken; refused after it', async () => {
    const srv = await startServer(voices, { drainDelayMs: 1500, drainTimeoutMs: 10_000, instanceId: 'tts-b' });
    const drained = srv.server.drain();
    try {
      expect(await health(srv.http)).toMatchObject({ status: 503, body: { status: 'draining', instance: 'tts-b' } });
      expect((await fetch(`${srv.http}/health/live`)).status).toBe(200);
      const late = await TestClient.connect(srv.ws);
      expect(await late.start()).toMatchObject({ type: 'ready', instance: 'tts-b' });
      const text = 'Admitted while the balancer catches up.';
      late.send({ type: 'text', text });
      late.send({ type: 'end' });
      expect((await late.closed).code).toBe(1000);
      expect(late.of('phrase').flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(text));
      // Past the delay admission refuses: the drain proper has begun.
      await sleep(1600);
      // Past the delay admission refuses (or, once drained, nothing listens): the drain proper has begun.
      const outcome = await TestClient.connect(srv.ws).then(
        async (c) => `${(await c.closed).code} ${c.of('error')[0]?.code}`,
        () => 'connection refused',
      );
      expect(outcome).toMatch(/^(1001 shutting_down|connection refused)$/);
      await drained;
    } finally {
      await srv.server.close();
    }
  }, 30_000);
});
