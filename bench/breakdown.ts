// Where a session's time goes: one long text given at once to one WebSocket session
// (Opus, asap pacing, `start.timings`), against the engine alone (in process, one
// worker of one thread, one request at a time) on the phrases that session cut, stage by stage.
import { Connection } from '../src/client/connection.js';
import { Engine, type SynthesisTimings } from '../src/pipeline/synthesis/index.js';
import type { PhraseTimings, ServerMessage } from '../src/protocol/index.js';
import type { Start } from './client.js';

/** Ms per stage, summed over the phrases; the waits and the delivery only a session has. */
export interface StageTotals {
  frontend: number;
  encoder: number;
  decoder: number;
  estimatorCalls: number;
  estimator: number;
  vocoder: number;
  workerQueued: number;
  worker: number;
  messaging: number;
  synthesis: number;
  resample?: number;
  queued?: number;
  held?: number;
  encode?: number;
  delivery?: number;
}

export interface BreakdownPhrase {
  phrase: number;
  audioMs: number;
  session: PhraseTimings;
  engine: { synthesisMs: number; messagingMs: number };
}

export interface BreakdownResults {
  sentences: number;
  phrases: number;
  audioSeconds: number;
  /** From sending the text to the last audio message, best round. */
  sessionWallMs: number;
  /** The engine's synthesis of the same phrases, one after another, best round. */
  engineWallMs: number;
  /** sessionWallMs / engineWallMs. */
  ratio: number;
  /**
   * CPU time per second of audio, all threads: the server's for the session, the benchmark
   * process's for the engine alone (best rounds). Load on a shared machine stretches wall
   * time far more than CPU time.
   */
  cpuMsPerAudioSecond: { session: number; engine: number };
  session: StageTotals;
  engine: StageTotals;
  perPhrase: BreakdownPhrase[];
}

export interface BreakdownOptions {
  url: string;
  /** The server's CPU time so far (all its threads). */
  serverCpuMs: () => Promise<number>;
  start: Start;
  voiceDir: string;
  device: 'cpu' | 'cuda';
  text: string;
  sentences: number;
  /** Rounds taking turns (session, then engine); the best of each is kept. */
  rounds: number;
}

interface SessionRun {
  wallMs: number;
  cpuMs: number;
  phrases: { id: number; text: string; durationMs: number }[];
  timings: PhraseTimings[];
}

async function runSession(url: string, serverCpuMs: () => Promise<number>, start: Start, text: string): Promise<SessionRun> {
  const connection = await Connection.open(url);
  try {
    const cpuBefore = await serverCpuMs();
    const reply = await connection.start({ ...start, format: 'opus', pacing: 'asap', timings: true });
    if (reply.type !== 'ready') throw new Error(`start refused: ${reply.type === 'error' ? reply.message : reply.type}`);
    const phrases: SessionRun['phrases'] = [];
    let lastAudio = Number.NaN;
    connection.onMessage((message, at) => {
      if (message.type === 'phrase') phrases.push({ id: message.id, text: message.text, durationMs: message.durationMs });
      else if (message.type === 'audio') lastAudio = at;
    });
    const done = connection.next((m) => m.type === 'done' || (m.type === 'error' && m.fatal));
    const sent = performance.now();
    connection.send({ type: 'text', text });
    connection.send({ type: 'end' });
    const end = (await done) as ServerMessage;
    if (end.type !== 'done') throw new Error(`session failed: ${end.type === 'error' ? end.message : end.type}`);
    return { wallMs: lastAudio - sent, cpuMs: (await serverCpuMs()) - cpuBefore, phrases, timings: end.stats.phraseTimings ?? [] };
  } finally {
    connection.close();
  }
}

async function runEngine(engine: Engine, start: Start, texts: string[]): Promise<{ wallMs: number; cpuMs: number; timings: SynthesisTimings[] }> {
  const timings: SynthesisTimings[] = [];
  // This process's CPU time counts its worker threads too.
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  for (const [k, text] of texts.entries()) {
    const result = await engine.synthesize(text, { weights: start.emotion ?? {}, ...(start.steps ? { steps: start.steps } : {}), seed: k });
    timings.push(result.timings);
  }
  const wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, timings };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function sessionTotals(timings: PhraseTimings[]): StageTotals {
  const of = (pick: (t: PhraseTimings) => number | undefined) => sum(timings.map((t) => pick(t) ?? 0));
  return {
    frontend: of((t) => t.frontendMs),
    encoder: of((t) => t.encoderMs),
    decoder: of((t) => t.decoderMs),
    estimatorCalls: of((t) => t.estimatorMs?.length),
    estimator: of((t) => sum(t.estimatorMs ?? [])),
    vocoder: of((t) => t.vocoderMs),
    workerQueued: of((t) => t.workerQueuedMs),
    worker: of((t) => t.workerMs),
    messaging: of((t) => t.messagingMs),
    synthesis: of((t) => t.synthesisMs),
    resample: of((t) => t.resampleMs),
    queued: of((t) => t.queuedMs),
    held: of((t) => t.heldMs),
    encode: of((t) => t.encodeMs),
    delivery: of((t) => t.deliveryMs),
  };
}

function engineTotals(timings: SynthesisTimings[]): StageTotals {
  const of = (pick: (t: SynthesisTimings) => number) => sum(timings.map(pick));
  return {
    frontend: of((t) => t.frontendMs),
    encoder: of((t) => t.encoderMs),
    decoder: of((t) => t.decoderMs),
    estimatorCalls: of((t) => t.estimatorMs.length),
    estimator: of((t) => sum(t.estimatorMs)),
    vocoder: of((t) => t.vocoderMs),
    workerQueued: of((t) => t.workers.queuedMs),
    worker: of((t) => t.workers.workMs),
    messaging: of((t) => t.workers.messagingMs),
    synthesis: of((t) => t.totalMs),
  };
}

export async function measureBreakdown(options: BreakdownOptions): Promise<BreakdownResults> {
  // As `emomix synth` runs it (one worker of one thread, a worker of the server's), with no
  // phrase cache, like the server's: each round does the whole work again.
  const engine = await Engine.create({ voiceDir: options.voiceDir, device: options.device, workers: 1, intraOpThreads: 1, cacheEntries: 0 });
  try {
    let session: SessionRun | undefined;
    let alone: Awaited<ReturnType<typeof runEngine>> | undefined;
    for (let round = 0; round < options.rounds; round++) {
      const s = await runSession(options.url, options.serverCpuMs, options.start, options.text);
      if (!session || s.wallMs < session.wallMs) session = s;
      // The engine speaks what the session cut; the first round warms its graphs up.
      if (round === 0) await runEngine(engine, options.start, s.phrases.slice(0, 1).map((p) => p.text));
      const e = await runEngine(engine, options.start, s.phrases.map((p) => p.text));
      if (!alone || e.wallMs < alone.wallMs) alone = e;
    }
    const s = session!;
    const e = alone!;
    const byId = new Map(s.timings.map((t) => [t.phrase, t]));
    const audioSeconds = sum(s.phrases.map((p) => p.durationMs)) / 1000;
    return {
      sentences: options.sentences,
      phrases: s.phrases.length,
      audioSeconds,
      sessionWallMs: s.wallMs,
      engineWallMs: e.wallMs,
      ratio: s.wallMs / e.wallMs,
      cpuMsPerAudioSecond: { session: s.cpuMs / audioSeconds, engine: e.cpuMs / audioSeconds },
      session: sessionTotals(s.timings),
      engine: engineTotals(e.timings),
      perPhrase: s.phrases.flatMap((p, k) => {
        const timing = byId.get(p.id);
        const mine = e.timings[k]!;
        return timing ? [{ phrase: p.id, audioMs: p.durationMs, session: timing, engine: { synthesisMs: mine.totalMs, messagingMs: mine.workers.messagingMs } }] : [];
      }),
    };
  } finally {
    await engine.close();
  }
}
