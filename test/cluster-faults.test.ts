// Faults across instances behind the real HAProxy (`emomix cluster`): SIGKILL
// mid-stream, SIGTERM drain, an instance at its session limit, and a rolling
// restart under a steady load of new sessions. The CI version runs the tiny
// fixture voice with a few sessions; `npm run test:cluster` runs the default
// voice with more (knobs: CLUSTER_VOICE, CLUSTER_SESSIONS, CLUSTER_MAX_SESSIONS,
// CLUSTER_LOAD_INTERVAL_MS). Figures go to test-output/reliability/cluster.json there.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/cluster/cluster.js';
import { parseStatsCsv, type ServerState } from '../src/cluster/haproxy-config.js';
import { expectAccounted, knob, percentile, report, until } from './reliability-harness.js';
import { FIXTURE_MODELS, FIXTURE_VOICE, sleep, TestClient, wordsOf } from './server-harness.js';

const VOICE = process.env.CLUSTER_VOICE || FIXTURE_VOICE;
const MODELS = VOICE === FIXTURE_VOICE ? FIXTURE_MODELS : 'models';
/**
 * Sessions open at once when a fault strikes, spread over the three instances,
 * and as many new ones after it: the two instances left must have room for
 * both (SESSIONS ≤ MAX_SESSIONS), as an operator plans for the loss of one.
 */
const SESSIONS = knob('CLUSTER_SESSIONS', 6);
const MAX_SESSIONS = knob('CLUSTER_MAX_SESSIONS', 6);
const LOAD_INTERVAL_MS = knob('CLUSTER_LOAD_INTERVAL_MS', 150);
/** The bound: every new session after an instance dies succeeds within this. */
const NEW_SESSION_BOUND_MS = 2000;

const LONG = 'The first sentence of this session is spoken slowly. A second one follows it. And a third one ends it.';
const SHORT = 'A short sentence for the load.';

interface Instance {
  name: string;
  id: string;
  pid: number;
  port: number;
}

/** `emomix cluster` from the sources, with its log parsed line by line. */
class ClusterProcess {
  readonly child: ChildProcess;
  readonly log: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];

  constructor(readonly port: number) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'cluster', '--instances', '3', '--port', String(port), '--max-sessions', String(MAX_SESSIONS)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EMOMIX_MODELS: MODELS, EMOMIX_VOICE: VOICE, EMOMIX_WORKERS: '1', LOG_LEVEL: 'info' } },
    );
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.stderr!.resume(); // HAProxy's access log
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      this.log.push(entry);
      const waiting = this.waiters.splice(0);
      for (const w of waiting) {
        if (w.match(entry)) w.resolve(entry);
        else this.waiters.push(w);
      }
    });
  }

  next(match: (e: Record<string, unknown>) => boolean, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const seen = this.log.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('cluster log: timed out')), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Current instances by id: the latest `instance started` of each name. */
  instances(): Map<string, Instance> {
    const latest = new Map<string, Instance>();
    for (const e of this.log) {
      if (e['msg'] !== 'instance started') continue;
      const id = e['instance'] as string;
      const name = id.replace(/\.\d+$/, '');
      latest.set(name, { name, id, pid: e['pid'] as number, port: e['port'] as number });
    }
    return new Map([...latest.values()].map((i) => [i.id, i]));
  }

  stats!: string;
  async servers(): Promise<ServerState[]> {
    return parseStatsCsv(await (await fetch(this.stats)).text(), 'emomix');
  }

  async allUp(): Promise<void> {
    await until(async () => (await this.servers()).every((s) => s.status === 'UP'), 60_000, 'every instance UP in HAProxy');
  }
}

interface Speaker {
  client: TestClient;
  instance: string;
  text: string;
  readyAt: number;
}

/** A session through the balancer that sends `text` and `end`; resolves at `ready`. */
async function speak(url: string, text: string, pacing: 'asap' | 'realtime'): Promise<Speaker> {
  const client = await TestClient.connect(url);
  const ready = await client.start({ pacing });
  if (ready.type !== 'ready') throw new Error(`refused: ${JSON.stringify(ready)}`);
  client.send({ type: 'text', text });
  client.send({ type: 'end' });
  return { client, instance: ready.instance as string, text, readyAt: performance.now() };
}

const spokenWords = (s: Speaker) => s.client.of('phrase').flatMap((p) => wordsOf(p.text));
const figures: Record<string, unknown> = { voice: VOICE, sessions: SESSIONS, maxSessions: MAX_SESSIONS };

let cluster: ClusterProcess;
let url: string;

beforeAll(async () => {
  expect(SESSIONS, 'CLUSTER_SESSIONS must fit in the two instances left: at most CLUSTER_MAX_SESSIONS').toBeLessThanOrEqual(MAX_SESSIONS);
  cluster = new ClusterProcess(await freePort());
  const ready = await cluster.next((e) => e['msg'] === 'cluster ready' || e['level'] === 60);
  expect(ready['msg']).toBe('cluster ready');
  cluster.stats = ready['stats'] as string;
  url = `ws://127.0.0.1:${cluster.port}/v1/stream`;
  expect((await fetch(`http://127.0.0.1:${cluster.port}/lb-health`)).status).toBe(200);
}, 180_000);

afterAll(async () => {
  if (!cluster || cluster.child.exitCode !== null) return;
  const pids = [...cluster.instances().values()].map((i) => i.pid);
  cluster.child.kill('SIGTERM');
  expect(await cluster.exited).toBe(0);
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  expect(alive).toEqual([]);
  // HAProxy went with them: nothing listens on the cluster's port.
  expect(await fetch(`http://127.0.0.1:${cluster.port}/lb-health`).then((r) => r.status, (e: Error) => e.message)).toBe('fetch failed');
  report('cluster', figures);
}, 60_000);

/** SESSIONS realtime sessions through the balancer, each past its first audio, on all three instances. */
async function spreadSessions(): Promise<Speaker[]> {
  const speakers: Speaker[] = [];
  for (let i = 0; i < SESSIONS; i++) speakers.push(await speak(url, LONG, 'realtime'));
  await Promise.all(speakers.map((s) => s.client.next('audio')));
  expect(new Set(speakers.map((s) => s.instance)).size).toBe(3);
  return speakers;
}

describe('three instances behind HAProxy', () => {
  it('SIGKILL mid-stream: its sessions close at once, the others finish, new sessions succeed within 2 s', async () => {
    await cluster.allUp();
    const speakers = await spreadSessions();
    const victim = cluster.instances().get(speakers[0]!.instance)!;
    const hit = speakers.filter((s) => s.instance === victim.id);
    const spared = speakers.filter((s) => s.instance !== victim.id);

    const killedAt = performance.now();
    process.kill(victim.pid, 'SIGKILL');
    const closeMs = await Promise.all(hit.map(async (s) => ((await s.client.closed), performance.now() - killedAt)));
    // New sessions straight away: HAProxy retries a refused connection on another instance.
    const fresh = await Promise.all(Array.from({ length: SESSIONS }, () => speak(url, SHORT, 'asap')));
    const freshMs = fresh.map((s) => s.readyAt - killedAt);

    expect(hit.length).toBeGreaterThan(0);
    for (const s of hit) expect((await s.client.closed).code).toBe(1006);
    expect(Math.max(...closeMs)).toBeLessThan(NEW_SESSION_BOUND_MS);
    expect(Math.max(...freshMs)).toBeLessThanOrEqual(NEW_SESSION_BOUND_MS);
    expect(fresh.filter((s) => s.instance === victim.id)).toEqual([]);
    for (const s of [...spared, ...fresh]) {
      expect((await s.client.closed).code).toBe(1000);
      expect(spokenWords(s)).toEqual(wordsOf(s.text));
      expectAccounted(s.client, [s.text]);
    }
    figures['sigkill'] = { hit: hit.length, spared: spared.length, closeMsMax: Math.round(Math.max(...closeMs)), newSessions: fresh.length, newReadyMsMax: Math.round(Math.max(...freshMs)), newReadyMsP50: Math.round(percentile(freshMs, 50)) };
  }, 180_000);

  it('SIGTERM: its sessions finish, it takes no new sessions once HAProxy has it down, and it exits 0', async () => {
    await cluster.allUp();
    const speakers = await spreadSessions();
    const victim = cluster.instances().get(speakers[0]!.instance)!;
    const termAt = Date.now();
    process.kill(victim.pid, 'SIGTERM');
    // /health says draining at once; HAProxy takes it out within its checks, before the drain delay ends.
    const downMs = await until(async () => (await cluster.servers()).find((s) => s.name === victim.name)?.status.startsWith('DOWN') ?? false, 10_000, 'victim DOWN');
    const fresh = await Promise.all(Array.from({ length: SESSIONS }, () => speak(url, SHORT, 'asap')));
    expect(fresh.filter((s) => s.instance === victim.id)).toEqual([]);

    for (const s of speakers) {
      expect([1000, 1001]).toContain((await s.client.closed).code);
      expect(spokenWords(s)).toEqual(wordsOf(s.text));
      expect(s.client.of('cancelled')).toEqual([]);
    }
    for (const s of fresh) {
      expect((await s.client.closed).code).toBe(1000);
      expect(spokenWords(s)).toEqual(wordsOf(s.text));
    }
    const exit = await cluster.next((e) => e['msg'] === 'instance exited' && e['instance'] === victim.id);
    expect(exit).toMatchObject({ code: 0 });
    figures['sigterm'] = { draining: speakers.filter((s) => s.instance === victim.id).length, downInHaproxyMs: Math.round(downMs), exitedAfterMs: (exit['time'] as number) - termAt };
  }, 180_000);

  it('an instance at its session limit gets no new sessions while the others have room', async () => {
    await cluster.allUp();
    const full = [...cluster.instances().values()][0]!;
    const direct = `ws://127.0.0.1:${full.port}/v1/stream`;
    const held: TestClient[] = [];
    try {
      for (let i = 0; i < MAX_SESSIONS; i++) {
        const c = await TestClient.connect(direct);
        held.push(c);
        expect(await c.start()).toMatchObject({ type: 'ready', instance: full.id });
      }
      expect((await fetch(`http://127.0.0.1:${full.port}/health`)).status).toBe(503);
      const outMs = await until(async () => (await cluster.servers()).find((s) => s.name === full.name)?.status.startsWith('DOWN') ?? false, 10_000, 'full instance out');

      // The other two have 2 × MAX_SESSIONS slots: up to all but one of them, at once.
      const fresh = await Promise.all(Array.from({ length: Math.min(2 * MAX_SESSIONS - 1, SESSIONS) }, () => speak(url, SHORT, 'asap')));
      expect(fresh.filter((s) => s.instance === full.id)).toEqual([]);
      for (const s of fresh) {
        expect((await s.client.closed).code).toBe(1000);
        expect(spokenWords(s)).toEqual(wordsOf(s.text));
      }
      figures['full'] = { held: held.length, outOfRotationMs: Math.round(outMs), placedElsewhere: fresh.length };
    } finally {
      for (const c of held) c.socket.close();
    }
    await cluster.allUp();
  }, 180_000);

  it('a rolling restart of all three under a steady load of new sessions loses none', async () => {
    await cluster.allUp();
    const before = new Set(cluster.instances().keys());
    const sessions: Promise<Speaker>[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        sessions.push(speak(url, SHORT, 'asap'));
        await sleep(LOAD_INTERVAL_MS);
      }
    })();
    await sleep(500);
    const startedAt = performance.now();
    cluster.child.kill('SIGHUP');
    await cluster.next((e) => e['msg'] === 'rolling restart done', 170_000);
    const restartMs = performance.now() - startedAt;
    await sleep(500);
    loading = false;
    await load;

    const outcomes = await Promise.allSettled(sessions.map(async (p) => {
      const s = await p;
      await s.client.closed;
      return s;
    }));
    const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
    expect(failed).toEqual([]);
    const served = outcomes.map((o) => (o as PromiseFulfilledResult<Speaker>).value);
    for (const s of served) {
      expect(spokenWords(s)).toEqual(wordsOf(s.text));
      expectAccounted(s.client, [s.text]);
    }
    const after = new Set(cluster.instances().keys());
    expect([...after].filter((id) => before.has(id))).toEqual([]);
    expect(new Set(served.map((s) => s.instance)).size).toBeGreaterThanOrEqual(4);
    figures['rollingRestart'] = { sessions: served.length, lost: failed.length, restartMs: Math.round(restartMs), instancesServing: new Set(served.map((s) => s.instance)).size };
  }, 240_000);
});
