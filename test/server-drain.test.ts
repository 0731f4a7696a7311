// SIGTERM drain of a real `emomix serve` process: no new sessions, accepted
// text finishes within the deadline (or is reported cancelled), close 1001, exit 0.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, spawnServe, TestClient, wordsOf, type ServeProcess } from './server-harness.js';

let child: ServeProcess['child'] | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the server on a free port and resolves with its port once it logs `listening`. */
async function serve(drainTimeoutMs: number): Promise<{ port: number; exited: Promise<number | null> }> {
  const proc = spawnServe(['--port', '0', '--host', '127.0.0.1', '--models', 'test/fixtures', '--voice', 'tiny-voice', '--workers', '1', '--drain-timeout-ms', String(drainTimeoutMs)]);
  child = proc.child;
  return { port: await proc.listening, exited: proc.exited };
}

const text = (n: number) => Array.from({ length: n }, (_, i) => `Drain sentence number ${i + 1} goes here.`).join(' ');

describe('SIGTERM', () => {
  it('finishes accepted text, refuses new sessions, closes with 1001 and exits 0', async () => {
    const { port, exited } = await serve(10_000);
    const url = `ws://127.0.0.1:${port}/v1/stream`;
    const speaking = await TestClient.connect(url);
    await speaking.start({ pacing: 'realtime' });
    const waiting = await TestClient.connect(url); // never sends start
    const input = text(3);
    speaking.send({ type: 'text', text: input }); // no end: only the drain ends this session
    await speaking.next('audio');

    child!.kill('SIGTERM');
    expect((await waiting.closed).code).toBe(1001);
    expect(waiting.of('error')[0]).toMatchObject({ code: 'shutting_down', fatal: true });

    // Draining: health says so and new sessions are turned away.
    await sleep(100);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(503);
    expect((await health.json()).status).toBe('draining');
    const late = await TestClient.connect(url);
    expect((await late.closed).code).toBe(1001);
    expect(late.of('error')[0]).toMatchObject({ code: 'shutting_down', fatal: true });

    // Text sent during the drain is refused, what was accepted before is all spoken.
    const refused = speaking.next('error');
    speaking.send({ type: 'text', text: 'Too late for this.' });
    expect(await refused).toMatchObject({ code: 'shutting_down', fatal: false });
    const closed = await speaking.closed;
    expect(closed.code).toBe(1001);
    expect(speaking.of('phrase').flatMap((p) => wordsOf(p.text))).toEqual(wordsOf(input));
    expect(speaking.of('cancelled')).toEqual([]);
    expect(speaking.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: true });
    expect(await exited).toBe(0);
  }, 60_000);

  it('cancels what the deadline does not allow, and says so', async () => {
    const { port, exited } = await serve(300);
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/v1/stream`);
    await client.start({ pacing: 'realtime' });
    const input = text(10);
    client.send({ type: 'text', text: input });
    await client.next('audio');
    child!.kill('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    const [cancelled] = client.of('cancelled');
    expect(cancelled).toBeDefined();
    const spoken = client.of('phrase').flatMap((p) => wordsOf(p.text));
    expect([...spoken, ...wordsOf(cancelled!.text)]).toEqual(wordsOf(input));
    expect(client.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: true });
    expect(await exited).toBe(0);
  }, 60_000);
});
