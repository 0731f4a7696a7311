// Soak: `emomix serve` in a process of its own, with SOAK_SESSIONS clients
// talking to it turn after turn for SOAK_SECONDS, audio paced in real time.
// Nothing may fail, the server's resident memory must stay flat once warm, and
// first-audio latency must not drift. The CI version runs the fixture voice for
// 60 s; `npm run reliability` runs the shipped voice for 10 minutes at the
// concurrency the benchmark measured (bench/results/latest.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conversation } from '../bench/texts.js';
import { expectAccounted, knob, mb, percentile, report, Rng, rssOf } from './reliability-harness.js';
import { FIXTURE_MODELS, FIXTURE_VOICE, sleep, spawnServe, TestClient, type ServeProcess } from './server-harness.js';

const SECONDS = knob('SOAK_SECONDS', 60);
const VOICE = process.env.SOAK_VOICE || FIXTURE_VOICE;
const MODELS = VOICE === FIXTURE_VOICE ? FIXTURE_MODELS : 'models';

/** The benchmark's most concurrent real-time sessions, when it measured this voice. */
function measuredConcurrency(): number | undefined {
  try {
    const results = JSON.parse(readFileSync('bench/results/latest.json', 'utf8'));
    return results.voice?.id === VOICE ? results.concurrency?.maxRealtimeSessions : undefined;
  } catch {
    return undefined;
  }
}
const SESSIONS = knob('SOAK_SESSIONS', (VOICE === FIXTURE_VOICE ? undefined : measuredConcurrency()) ?? 4);
/** Tokens a second after each turn's first sentence, as an LLM streams them. */
const WORDS_PER_SECOND = 10;
/** Growth of the server's resident memory allowed from the first third (after warm-up) to the last. */
const RSS_GROWTH_MB = knob('SOAK_RSS_GROWTH_MB', 32);
const WARM_UP_S = Math.max(5, SECONDS / 10);

interface Turn {
  startedS: number;
  firstAudioMs: number;
  audioMs: number;
}


let proc: ServeProcess | undefined;
afterAll(() => {
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
});

describe(`soak: ${SESSIONS} sessions for ${SECONDS} s on ${VOICE}`, () => {
  it('fails nothing, keeps memory flat and first-audio latency steady', async () => {
    proc = spawnServe(['--port', '0', '--host', '127.0.0.1', '--models', MODELS, '--voice', VOICE]);
    const url = `ws://127.0.0.1:${await proc.listening}/v1/stream`;
    const pid = proc.child.pid!;
    const started = performance.now();
    const elapsedS = () => (performance.now() - started) / 1000;
    const rss: { atS: number; bytes: number }[] = [];
    const turns: Turn[] = [];
    const failures: string[] = [];

    const sampler = setInterval(() => rss.push({ atS: elapsedS(), bytes: rssOf(pid) }), 1000);
    const talk = async (slot: number) => {
      const rng = new Rng(slot + 1);
      for (let k = 0; elapsedS() < SECONDS; k++) {
        const client = await TestClient.connect(url);
        await client.start({ pacing: 'realtime', emotion: { [rng.pick(['neutral', 'happy', 'sad', 'angry', 'surprise'])]: 1 }, seed: rng.int(1000) });
        // A first sentence whole, timed to its first audio; then tokens at the pace of an LLM.
        const [first, ...rest] = conversation(rng.between(8, 20), slot * 101 + k * 7).split(/(?<=[.!?])\s+/);
        const firstAudio = client.next('audio', 60_000);
        const turnStarted = performance.now();
        client.send({ type: 'text', text: first! });
        for (const token of rest.join(' ').split(/(?=\s)/).filter(Boolean)) {
          await sleep(1000 / WORDS_PER_SECOND);
          client.send({ type: 'text', text: token });
        }
        client.send({ type: 'end' });
        await firstAudio;
        const firstAudioMs = client.arrivals[client.messages.findIndex((m) => m.type === 'audio')]! - turnStarted;
        const closed = await client.closed;
        const problems = [...client.of('error').map((e) => `${e.code}: ${e.message}`), ...(closed.code === 1000 ? [] : [`closed ${closed.code}`])];
        if (problems.length > 0) failures.push(...problems);
        expectAccounted(client, [first!, ...rest]);
        turns.push({ startedS: (turnStarted - started) / 1000, firstAudioMs, audioMs: client.of('done')[0]!.stats.audioMs });
      }
    };
    try {
      await Promise.all(Array.from({ length: SESSIONS }, (_, slot) => talk(slot)));
    } finally {
      clearInterval(sampler);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${await proc.listening}/metrics`)).text();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    // After the warm-up, in thirds: memory at the start against its peak at the end, latency first half against second.
    const warm = rss.filter((r) => r.atS >= WARM_UP_S);
    const third = (warm.at(-1)!.atS - WARM_UP_S) / 3;
    const early = warm.filter((r) => r.atS < WARM_UP_S + third).map((r) => r.bytes);
    const late = warm.filter((r) => r.atS >= WARM_UP_S + 2 * third).map((r) => r.bytes);
    const growth = Math.max(...late) - percentile(early, 50);
    const measured = turns.filter((t) => t.startedS >= WARM_UP_S);
    const middle = WARM_UP_S + (SECONDS - WARM_UP_S) / 2;
    const firstHalf = measured.filter((t) => t.startedS < middle).map((t) => t.firstAudioMs);
    const secondHalf = measured.filter((t) => t.startedS >= middle).map((t) => t.firstAudioMs);
    const p = (values: number[], q: number) => Math.round(percentile(values, q));
    report(`soak-${VOICE}`, {
      voice: VOICE,
      sessions: SESSIONS,
      seconds: Math.round(elapsedS()),
      turns: turns.length,
      audioMinutes: Math.round(turns.reduce((n, t) => n + t.audioMs, 0) / 6000) / 10,
      failures,
      rssMb: { atStart: mb(rss[0]!.bytes), warmMedian: mb(percentile(early, 50)), lastThirdPeak: mb(Math.max(...late)), growth: mb(growth), bound: RSS_GROWTH_MB },
      firstAudioMs: {
        all: { p50: p(measured.map((t) => t.firstAudioMs), 50), p95: p(measured.map((t) => t.firstAudioMs), 95), samples: measured.length },
        firstHalf: { p50: p(firstHalf, 50), p95: p(firstHalf, 95), samples: firstHalf.length },
        secondHalf: { p50: p(secondHalf, 50), p95: p(secondHalf, 95), samples: secondHalf.length },
      },
      serverFirstAudio: /emomix_first_audio_seconds_count\{[^}]*\} (\d+)/.exec(metrics)?.[1],
    });

    expect(failures).toEqual([]);
    expect(metrics).not.toMatch(/emomix_errors_total\{/);
    expect(growth).toBeLessThan(RSS_GROWTH_MB * 2 ** 20);
    // Steady: the second half's p95 within half as much again as the first's, plus 100 ms of scheduling noise.
    expect(percentile(secondHalf, 95)).toBeLessThan(1.5 * percentile(firstHalf, 95) + 100);
  }, (SECONDS + 180) * 1000);
});
