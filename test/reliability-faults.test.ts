// Faults: clients that vanish, inference workers that throw or die, model files
// that are corrupt or missing, a port that is taken, a log on a full disk, and
// many connect/disconnect cycles — what is freed, what is reported, and that
// everyone else carries on. CYCLES sets the number of cycles (default 1000).
import { openSync, closeSync } from 'node:fs';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceWorker, WorkerPool } from '../src/pipeline/synthesis/worker-pool.js';
import { loadVoice } from '../src/pipeline/voice/load.js';
import { VoiceRegistry } from '../src/server/voices.js';
import { activeResources, expectAccounted, gc, knob, mb, openFds, report, until } from './reliability-harness.js';
import { FIXTURE_MODELS, FIXTURE_VOICE, sleep, spawnServe, startServer, TestClient, type RunningServer, type ServeProcess } from './server-harness.js';

const CYCLES = knob('CYCLES', 1000);
const sentences = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `Sentence ${i + 1} of ${tag} is here.`).join(' ');

/** Inference workers the voices start, alive or not: where faults are injected. */
const workers: Worker[] = [];
let exited = 0;
let voices: VoiceRegistry;
let srv: RunningServer;
/** Syntheses running now, across sessions. */
let inFlight = 0;

beforeAll(async () => {
  voices = await VoiceRegistry.load({
    modelsDir: FIXTURE_MODELS,
    defaultVoice: FIXTURE_VOICE,
    workers: 1,
    intraOpThreads: 1,
    logger: { warn: () => undefined },
    createWorker: (init) => {
      const worker = createInferenceWorker(init);
      workers.push(worker);
      worker.on('exit', () => exited++);
      return worker;
    },
  });
  const engine = voices.get()!.engine;
  const synthesize = engine.synthesize.bind(engine);
  engine.synthesize = async (...args) => {
    inFlight++;
    try {
      return await synthesize(...args);
    } finally {
      inFlight--;
    }
  };
  srv = await startServer(voices);
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

const liveWorkers = () => workers.length - exited;
const figures: Record<string, unknown> = {};
afterAll(() => report('faults', figures));

describe('clients that vanish', () => {
  it.each([
    ['drops the connection', (c: TestClient) => c.socket.terminate()],
    ['closes the socket', (c: TestClient) => c.socket.close()],
  ])('frees the session and stops synthesis within a second when the client %s mid-phrase', async (how, leave) => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ pacing: 'realtime' });
    client.send({ type: 'text', text: sentences(20, 'a long answer') });
    await client.next('audio');
    leave(client);
    const freedMs = await until(() => srv.server.sessions().length === 0 && inFlight === 0, 1000, 'session and synthesis released');
    figures[`freed after the client ${how} (ms)`] = Math.round(freedMs);
  });

  it('frees a session whose client vanishes while its first phrase is still being synthesized', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ steps: 50 });
    client.send({ type: 'text', text: sentences(5, 'slow steps') });
    await until(() => inFlight > 0, 5000, 'synthesis started');
    client.socket.terminate();
    figures['freed mid-synthesis (ms)'] = Math.round(await until(() => srv.server.sessions().length === 0 && inFlight === 0, 1000, 'released'));
  });
});

describe('inference workers that fail', () => {
  /** Breaks the worker just before it is sent its next request, which is then sure to be in flight on a dying worker. */
  function breakNextCall(how: (worker: Worker) => void): void {
    const worker = workers.at(-1)!;
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (...args: Parameters<Worker['postMessage']>) => {
      worker.postMessage = post;
      how(worker);
      post(...args);
    };
  }

  // One worker serves every session, and with batching on, estimator steps of
  // concurrent sessions share its calls: a session may have work on the dying
  // worker whenever it is synthesizing. So here only `speaking` is: `playing` has
  // all its audio rendered and is pacing it out in real time, `late` starts
  // during the restart.
  it.each([
    // An uncaught exception in the worker: its message handler cannot destructure null.
    ['throws', (w: Worker) => w.postMessage(null)],
    ['is killed', (w: Worker) => void w.terminate()],
  ])('when a worker %s, the session it was synthesizing for gets an error and goes on; others are untouched; the worker is replaced', async (_, how) => {
    const started = workers.length;
    const playing = await TestClient.connect(srv.ws);
    const { session } = await playing.start({ pacing: 'realtime' });
    const playingText = 'Rendered already, playing in real time.';
    playing.send({ type: 'text', text: playingText });
    playing.send({ type: 'end' });
    await until(() => inFlight === 0 && srv.server.sessions().some((s) => s.id === session && s.phrasesRendered > 0 && s.pendingText === 0), 10_000, 'playing rendered');

    const speaking = await TestClient.connect(srv.ws);
    await speaking.start({ format: 'pcm16', steps: 10 });
    const speakingText = sentences(3, 'the unlucky session');
    breakNextCall(how);
    speaking.send({ type: 'text', text: speakingText });
    speaking.send({ type: 'end' });
    const late = await TestClient.connect(srv.ws);
    await late.start();
    const lateText = 'Starting while the worker restarts.';
    late.send({ type: 'text', text: lateText });
    late.send({ type: 'end' });
    const closes = await Promise.all([playing, speaking, late].map((c) => c.closed));

    expect(closes.map((c) => c.code)).toEqual([1000, 1000, 1000]);
    const [failed, ...none] = speaking.of('error');
    expect(none).toEqual([]);
    expect(failed).toMatchObject({ code: 'synthesis_failed', fatal: false, phrase: 1, text: expect.any(String) });
    expect(failed!.message).toContain('WORKER_DIED');
    // The rest of its text was spoken by the replacement.
    expect(speaking.of('done')[0]!.stats).toMatchObject({ failedPhrases: 1, phrases: speaking.of('phrase').length });
    expect(speaking.of('phrase').length).toBeGreaterThan(0);
    expectAccounted(speaking, [speakingText]);
    for (const [client, text] of [[playing, playingText], [late, lateText]] as const) {
      expect(client.of('error')).toEqual([]);
      expectAccounted(client, [text]);
    }

    // Replaced: one more worker was started, and one is alive.
    expect(workers.length).toBe(started + 1);
    await until(() => liveWorkers() === 1, 5000, 'one worker alive');
  });

  it('fails calls rather than queueing them forever when no worker can be started, and recovers when one can', async () => {
    const voice = await loadVoice(join(FIXTURE_MODELS, FIXTURE_VOICE));
    const root = await mkdtemp(join(tmpdir(), 'emomix-pool-'));
    const corrupt = join(root, 'estimator.onnx');
    await writeFile(corrupt, 'not a graph');
    let broken = false;
    const started: Worker[] = [];
    const warnings: string[] = [];
    const pool = await WorkerPool.start({
      size: 1,
      init: { graphFiles: voice.graphFiles, device: 'cpu', intraOpThreads: 1, graphOptimization: 'all', mel: voice.manifest.mel },
      logger: { warn: (m) => warnings.push(m) },
      createWorker: (init) => {
        const worker = createInferenceWorker(broken ? { ...init, graphFiles: { ...init.graphFiles, estimator: corrupt } } : init);
        started.push(worker);
        return worker;
      },
    });
    try {
      const mel = () => new Float32Array(80 * 10).fill(-5);
      broken = true;
      await started[0]!.terminate();
      await until(() => warnings.length > 0, 10_000, 'replacement failed');
      // No worker is left: a call starts one, which fails, and the call fails with it.
      const outcome = await Promise.race([pool.vocode(mel(), 80, 10).then(() => 'served', (e: Error) => e.message), sleep(15_000).then(() => 'hung')]);
      expect(outcome).toBe('no inference worker is left');
      broken = false;
      expect((await pool.vocode(mel(), 80, 10)).length).toBeGreaterThan(0);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('start-up and environment faults', () => {
  let proc: ServeProcess | undefined;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'emomix-faults-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  afterEach(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    proc = undefined;
  });

  /** A copy of the fixture voice, damaged by `damage`, served: the process must exit 1 and say why. */
  async function refusal(name: string, damage: (dir: string) => Promise<void>): Promise<{ msg: string; err: { message: string } }> {
    await cp(join(FIXTURE_MODELS, FIXTURE_VOICE), join(root, name), { recursive: true });
    await damage(join(root, name));
    proc = spawnServe(['--port', '0', '--host', '127.0.0.1', '--models', root, '--voice', name, '--workers', '1']);
    expect(await proc.exited).toBe(1);
    const fatal = proc.log.find((e) => e['level'] === 60) as { msg: string; err: { message: string } } | undefined;
    expect(fatal?.msg).toBe(`cannot load voices from ${root}`);
    return fatal!;
  }

  it('exits 1 naming a corrupt graph file', async () => {
    const fatal = await refusal('corrupt', (dir) => writeFile(join(dir, 'estimator.onnx'), Buffer.alloc(4096, 0x5a)));
    expect(fatal.err.message).toContain(join(root, 'corrupt', 'estimator.onnx'));
    expect(fatal.err.message).toContain('onnxruntime cannot load it');
  }, 60_000);

  it('exits 1 naming a missing graph file', async () => {
    const fatal = await refusal('missing', (dir) => unlink(join(dir, 'vocoder.onnx')));
    expect(fatal.err.message).toContain(join(root, 'missing', 'vocoder.onnx'));
    expect(fatal.err.message).toContain('does not exist');
  }, 60_000);

  it('exits 1 when the models folder is not there', async () => {
    proc = spawnServe(['--port', '0', '--models', join(root, 'nowhere'), '--voice', 'tiny-voice']);
    expect(await proc.exited).toBe(1);
    const fatal = proc.log.find((e) => e['level'] === 60) as { err: { message: string } } | undefined;
    expect(fatal?.err.message).toContain(join(root, 'nowhere', 'tiny-voice', 'voice.json'));
  }, 60_000);

  it.each([
    ['is taken', '127.0.0.1', 'EADDRINUSE'],
    ['is on an address this machine does not have', '192.0.2.1', 'EADDRNOTAVAIL'],
  ])('exits 1 when the port %s', async (_, host, code) => {
    const taken = await occupyPort();
    try {
      const port = (taken.address() as { port: number }).port;
      proc = spawnServe(['--port', String(port), '--host', host, '--models', FIXTURE_MODELS, '--voice', FIXTURE_VOICE, '--workers', '1']);
      expect(await proc.exited).toBe(1);
      const fatal = proc.log.find((e) => e['level'] === 60) as { msg: string; err: { code?: string; message: string } } | undefined;
      expect(fatal?.msg).toBe(`cannot listen on ${host}:${port}`);
      expect(fatal?.err.message).toContain(code);
    } finally {
      taken.close();
    }
  }, 60_000);

  it('keeps serving, and drains on SIGTERM, with its log on a full disk', async () => {
    // The log cannot be read back from /dev/full, so the port is chosen here.
    const probe = await occupyPort();
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const full = openSync('/dev/full', 'w');
    try {
      proc = spawnServe(['--port', String(port), '--host', '127.0.0.1', '--models', FIXTURE_MODELS, '--voice', FIXTURE_VOICE, '--workers', '1'], {}, full);
    } finally {
      closeSync(full);
    }
    const url = `ws://127.0.0.1:${port}/v1/stream`;
    const health = () => fetch(`http://127.0.0.1:${port}/health`).then((res) => res.ok, () => false);
    await until(health, 30_000, 'listening');
    for (let i = 0; i < 3; i++) {
      const client = await TestClient.connect(url);
      await client.start();
      client.send({ type: 'text', text: `Logged nowhere, spoken anyway, ${i}.` });
      client.send({ type: 'end' });
      expect((await client.closed).code).toBe(1000);
      expectAccounted(client, [`Logged nowhere, spoken anyway, ${i}.`]);
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  }, 60_000);
});

function occupyPort(): Promise<NetServer> {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe(`${CYCLES} connect/disconnect cycles`, () => {
  it('leak no sockets, timers, file descriptors, workers or memory', async () => {
    const texts = ['Short.', 'A phrase cut short by a vanishing client, and then some more words.'];
    const cycle = async (i: number) => {
      const client = await TestClient.connect(srv.ws);
      switch (i % 5) {
        case 0: // connect and go
          client.socket.close();
          break;
        case 1: // start and go
          await client.start();
          client.socket.close();
          break;
        case 2: // garbage, then drop the connection
          client.socket.send(Buffer.from([0xc1, i & 0xff]));
          await client.next('error');
          client.socket.terminate();
          break;
        case 3: // a whole session
          await client.start({ steps: 1 });
          client.send({ type: 'text', text: texts[0]! });
          client.send({ type: 'end' });
          break;
        default: // vanish mid-phrase (a third of them before any audio)
          await client.start({ steps: 1 });
          client.send({ type: 'text', text: texts[1]! });
          if (i % 3 !== 0) await client.next('audio');
          client.socket.terminate();
      }
      await client.closed;
    };
    const settle = async () => {
      await until(() => srv.server.sessions().length === 0 && inFlight === 0, 5000, 'sessions released');
      await sleep(100);
      gc();
    };

    for (let i = 0; i < 50; i++) await cycle(i); // warm-up: code paths, pools, JIT
    await settle();
    const before = { fds: openFds(), resources: activeResources(), workers: liveWorkers(), heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
    const started = performance.now();
    for (let i = 0; i < CYCLES; i++) await cycle(i);
    const seconds = (performance.now() - started) / 1000;
    await settle();
    const after = { fds: openFds(), resources: activeResources(), workers: liveWorkers(), heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };

    figures.cycles = { count: CYCLES, seconds: Math.round(seconds * 10) / 10, fds: [before.fds, after.fds], workers: [before.workers, after.workers], heapMb: [mb(before.heap), mb(after.heap)], rssMb: [mb(before.rss), mb(after.rss)], resources: [before.resources, after.resources] };
    expect(after.fds).toBeLessThanOrEqual(before.fds + 2);
    // No kind of handle is more numerous than before (a timer pending then may be gone now).
    for (const [kind, count] of Object.entries(after.resources)) expect({ kind, count }).toEqual({ kind, count: Math.min(count, before.resources[kind] ?? 0) });
    expect(after.workers).toBe(before.workers);
    expect(after.heap - before.heap).toBeLessThan(16 * 2 ** 20);
    expect(after.rss - before.rss).toBeLessThan(64 * 2 ** 20);
  }, 600_000);
});
