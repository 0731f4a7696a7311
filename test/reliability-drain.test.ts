// SIGTERM under load, in a loop: `emomix serve` with real-time sessions whose text
// outlasts the drain deadline, so that the deadline always cuts synthesis short while
// inference workers are busy. Every run must end with exit code 0: a worker terminated
// while an onnxruntime call is in flight aborts the process (SIGABRT), which a single
// run only catches some of the time. DRAIN_RUNS is 3 in `npm test`, 20 in
// `npm run reliability`.
import { afterEach, describe, expect, it } from 'vitest';
import { conversation } from '../bench/texts.js';
import { knob, report } from './reliability-harness.js';
import { spawnServe, TestClient, wordsOf, type ServeProcess } from './server-harness.js';

const RUNS = knob('DRAIN_RUNS', 3);
const SESSIONS = knob('DRAIN_SESSIONS', 10);
/** Short enough that every run's deadline lands while phrases are being synthesized. */
const DRAIN_TIMEOUT_MS = 1500;

let proc: ServeProcess | undefined;
afterEach(() => {
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
});

/** One run: sessions speaking in real time, SIGTERM once each has audio; resolves with the exit code and signal. */
async function drainUnderLoad(run: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; cancelled: number }> {
  proc = spawnServe(['--port', '0', '--host', '127.0.0.1', '--models', 'models', '--voice', 'slt-emo', '--workers', '2', '--drain-timeout-ms', String(DRAIN_TIMEOUT_MS)]);
  const child = proc.child;
  const signalled = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const url = `ws://127.0.0.1:${await proc.listening}/v1/stream`;
  const clients = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, k) => {
      const client = await TestClient.connect(url);
      await client.start({ pacing: 'realtime', seed: run * 31 + k });
      // Minutes of speech: the drain deadline always comes first.
      const text = conversation(40, run * 101 + k);
      client.send({ type: 'text', text });
      return { client, text };
    }),
  );
  await Promise.all(clients.map(({ client }) => client.next('audio', 60_000)));
  child.kill('SIGTERM');
  let cancelled = 0;
  for (const { client, text } of clients) {
    expect((await client.closed).code).toBe(1001);
    const spoken = client.of('phrase').flatMap((p) => wordsOf(p.text));
    const dropped = client.of('cancelled').flatMap((c) => wordsOf(c.text));
    expect([...spoken, ...dropped]).toEqual(wordsOf(text));
    if (dropped.length > 0) cancelled++;
    expect(client.messages.at(-1)).toMatchObject({ type: 'error', code: 'shutting_down', fatal: true });
  }
  return { code: await proc.exited, signal: await signalled, cancelled };
}

describe(`SIGTERM under real-time load, ${RUNS} runs`, () => {
  it('exits 0 every time, each session told what was cancelled', async () => {
    const outcomes: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { code, signal, cancelled } = await drainUnderLoad(run);
      outcomes.push(signal ?? String(code));
      // The deadline must have cut speech short, or the run did not test the abort.
      expect(cancelled).toBeGreaterThan(0);
    }
    report('drain', { runs: RUNS, sessions: SESSIONS, drainTimeoutMs: DRAIN_TIMEOUT_MS, outcomes });
    expect(outcomes).toEqual(Array(RUNS).fill('0'));
  }, 60_000 + RUNS * 45_000);
});
