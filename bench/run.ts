/**
 * `npm run bench`: the performance figures of docs/benchmarks.md, measured on this
 * machine with the real server and real WebSocket clients.
 *
 *   npm run bench [-- --quick] [--out FILE.json] [--doc FILE.md] [--models DIR] [--voice ID] [--device cpu|cuda]
 *   npm run bench -- --only switch     only the emotion-switch comparison, printed (writes nothing)
 *   npm run bench -- --only supply     only the single-session supply check, printed (writes nothing)
 *   npm run bench -- --only breakdown  only where one long session's time goes, printed (writes nothing)
 *   npm run bench -- --only phrasing   only the early-cut trade-off (first audio against WER), printed (writes nothing)
 *   npm run bench -- --only concurrency  only the concurrency ladders, printed (writes nothing)
 *   npm run bench -- --only grace      only the first-audio grace trade-off (32 sessions, grace 0-1000 ms), printed (writes nothing)
 *
 * Full mode (a few minutes) writes bench/results/latest.json and the tables of
 * docs/benchmarks.md. --quick runs every part once, small, in well under a minute, to
 * prove the harness end to end; it writes only where --out and --doc say.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EARLY_CUT_WORDS } from '../src/pipeline/segmenter.js';
import { measureBreakdown, type BreakdownResults } from './breakdown.js';
import { openSession, streamSession, timeToFirstAudio } from './client.js';
import { measureFairness, type FairnessResults } from './fairness.js';
import { measureFestival, measureFestivalText } from './festival.js';
import { graceTable, measureGrace } from './grace.js';
import { loadTrial, type LoadPlan } from './load.js';
import { DEFAULT_FIRST_AUDIO_GRACE_MS } from '../src/server/session/play-clock.js';
import { backgroundLoad, machineInfo } from './machine.js';
import { breakdownMarkdown, defaultRow, evaluateTargets, longTextFigures, percentiles, phrasingTable, renderMarkdown, spliceIntoDoc, type BenchResults, type Ladder, type ThroughputRun, type Trial } from './report.js';
import { BenchServer, type ServerOptions } from './server.js';
import { measureStages } from './stages.js';
import { measureSupply, type SupplyResults } from './supply.js';
import { measureSwitch, type SwitchResults } from './switch.js';
import { measurePhrasing, PHRASING_SETTINGS, type PhrasingPlan } from './phrasing.js';
import { conversation, firstPhrase, mixedReply, NEXT_WORD, shortSentences, STAGE_SENTENCES } from './texts.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    doc: { type: 'string' },
    models: { type: 'string', default: 'models' },
    voice: { type: 'string', default: 'slt-emo' },
    device: { type: 'string', default: 'cpu' },
    only: { type: 'string' },
  },
});
const ALONE = ['switch', 'supply', 'breakdown', 'phrasing', 'concurrency', 'grace'];
if (values.only !== undefined && !ALONE.includes(values.only)) throw new Error(`--only: the parts that run alone are ${ALONE.map((p) => `"${p}"`).join(', ')}, not "${values.only}"`);
const quick = values.quick!;
const device = values.device === 'cuda' ? 'cuda' : 'cpu';
const outFile = values.out ?? (quick ? undefined : 'bench/results/latest.json');
const docFile = values.doc ?? (quick ? undefined : 'docs/benchmarks.md');

/** How big each part is: full mode for the figures, quick mode to prove the harness. */
const plan = quick
  ? { rounds: 1, sentences: STAGE_SENTENCES.slice(1, 2), steps: [2], emotions: 2, ttfaSamples: 1, switchWords: 16, levels: [1, 2], words: 10, rates: [30], batchSessions: 2, batchWords: 8, batchRounds: 1, memorySessions: 2, memorySettleMs: 300, idleMs: 300, supplyRates: [30], supplyRounds: 1, breakdownSentences: 3, breakdownRounds: 1, fairnessWords: 40, fairnessRounds: 1, phrasingSettings: [0, DEFAULT_EARLY_CUT_WORDS], phrasingReplies: 1, phrasingSeeds: [7] }
  : { rounds: 3, sentences: STAGE_SENTENCES, steps: [2, 4, 6, 10], emotions: 3, ttfaSamples: 20, switchWords: 120, levels: [], words: 45, rates: [10, 30], batchSessions: 10, batchWords: 30, batchRounds: 4, memorySessions: 16, memorySettleMs: 1500, idleMs: 3000, supplyRates: [5, 10, 30], supplyRounds: 3, breakdownSentences: 20, breakdownRounds: 3, fairnessWords: 200, fairnessRounds: 6, phrasingSettings: PHRASING_SETTINGS, phrasingReplies: 24, phrasingSeeds: [7, 8] };
const CLIENT_BUFFER_MS = 200;
/** The grace trade-off: at the load issue 20 asks for, graces around the default. */
const GRACE_SESSIONS = 32;
const GRACES = [0, 250, DEFAULT_FIRST_AUDIO_GRACE_MS, 1000];
/** The corpus line the breakdown's text starts at: statements and questions of a few words each. */
const BREAKDOWN_LINE = 60;
/** LLM tokens arrive at about this rate; the early cut matters most when a sentence takes longer to arrive than to speak its start. */
const PHRASING_WORDS_PER_SECOND = 30;
const MAX_SESSIONS = 64;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const startedAt = new Date();
const began = performance.now();
const machine = await machineInfo();
const before = await backgroundLoad(plan.idleMs);
log(`${machine.cpu}, ${machine.cores} cores; other programs use ${before.busyCores ?? '?'} cores`);

const voiceDir = join(values.models!, values.voice!);
const manifest = JSON.parse(await readFile(join(voiceDir, 'voice.json'), 'utf8')) as { id: string; neutral: string; emotions: { name: string }[]; diffusion: { steps: number }; estimator: { preset: string }; files: Record<string, string> };
const others = manifest.emotions.map((e) => e.name).filter((n) => n !== manifest.neutral);
const MIXES: Record<string, number>[] = [
  { [others[0] ?? manifest.neutral]: 1 },
  { [others[0] ?? manifest.neutral]: 0.6, [others[1] ?? manifest.neutral]: 0.4 },
  { [others[0] ?? manifest.neutral]: 0.5, [others[1] ?? manifest.neutral]: 0.3, [others[2] ?? manifest.neutral]: 0.2 },
];
// The mixing EmoMix is for costs one estimator row per emotion: sessions use two.
const sessionStart = { voice: values.voice, emotion: MIXES[1]! };

// The phrase cache stays off: every phrase costs what a phrase never heard before costs.
const serverOptions = (batching: 'auto' | 'on' | 'off', scheduling: 'deadline' | 'arrival' = 'deadline'): ServerOptions => ({ modelsDir: values.models!, voice: values.voice!, device, flags: ['--cache-entries', '0', '--batching', batching, '--scheduling', scheduling, '--max-sessions', String(MAX_SESSIONS)] });
const loadPlan: LoadPlan = { start: sessionStart, words: plan.words, bufferMs: CLIENT_BUFFER_MS };
const switchPlan = { ttfaSamples: plan.ttfaSamples, rounds: plan.rounds, words: plan.switchWords };

if (values.only === 'supply') {
  const alone = await BenchServer.start(serverOptions('auto'));
  try {
    await timeToFirstAudio(alone.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
    log('one session kept supplied while a long sentence streams in');
    const s = await measureSupply(alone.url, sessionStart, plan.supplyRates, plan.supplyRounds, CLIENT_BUFFER_MS);
    process.stdout.write(`| words/s | sessions | underruns | smallest margin | phrases p50 |\n|---|---|---|---|---|\n`);
    for (const row of s.rows) process.stdout.write(`| ${row.wordsPerSecond} | ${row.sessions} | ${row.underruns} | ${row.minSlackMs.toFixed(0)} ms | ${row.phrases.p50} |\n`);
  } finally {
    await alone.stop();
  }
  process.exit(0);
}

const breakdownText = shortSentences(plan.breakdownSentences, BREAKDOWN_LINE);
const breakdownOf = (target: BenchServer) =>
  measureBreakdown({ url: target.url, serverCpuMs: () => target.cpuMs(), start: sessionStart, voiceDir, device, text: breakdownText, sentences: plan.breakdownSentences, rounds: plan.breakdownRounds });

if (values.only === 'breakdown') {
  const alone = await BenchServer.start(serverOptions('auto'));
  try {
    await timeToFirstAudio(alone.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
    log("where one long session's time goes");
    process.stdout.write(`${breakdownMarkdown(await breakdownOf(alone))}\n`);
  } finally {
    await alone.stop();
  }
  process.exit(0);
}

const phrasingPlan = (): PhrasingPlan => ({
  server: { modelsDir: values.models!, voice: values.voice!, device, flags: ['--cache-entries', '0'] },
  // Neutral, as `evaluate` measures WER.
  start: { voice: values.voice, emotion: { [manifest.neutral]: 1 } },
  settings: plan.phrasingSettings,
  replies: plan.phrasingReplies,
  seeds: plan.phrasingSeeds,
  wordsPerSecond: PHRASING_WORDS_PER_SECOND,
  log,
});

if (values.only === 'phrasing') {
  log(`the early-cut trade-off: replies streamed at ${PHRASING_WORDS_PER_SECOND} words/s`);
  process.stdout.write(`${phrasingTable(await measurePhrasing(phrasingPlan()))}\n`);
  process.exit(0);
}

if (values.only === 'concurrency') {
  const alone = await BenchServer.start(serverOptions('auto'));
  try {
    await timeToFirstAudio(alone.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
    const ladders: Ladder[] = [];
    for (const rate of plan.rates) {
      log(`concurrency at ${rate} words/s`);
      ladders.push(await concurrencyLadder(alone, rate));
    }
    for (const l of ladders) process.stdout.write(`${l.wordsPerSecond} words/s: ${l.maxRealtimeSessions} real-time sessions\n`);
  } finally {
    await alone.stop();
  }
  process.exit(0);
}

if (values.only === 'grace') {
  log(`the first-audio grace: ${GRACE_SESSIONS} sessions`);
  const rows = await measureGrace({
    server: (graceMs) => {
      const options = serverOptions('auto');
      return { ...options, flags: [...options.flags!, '--first-audio-grace-ms', String(graceMs)] };
    },
    load: loadPlan,
    warmUp: `${firstPhrase(6, 99)} ${NEXT_WORD}`,
    sessions: quick ? 2 : GRACE_SESSIONS,
    rates: plan.rates,
    rounds: quick ? 1 : 3,
    graces: quick ? [0, DEFAULT_FIRST_AUDIO_GRACE_MS] : GRACES,
    log,
  });
  process.stdout.write(`${graceTable(rows)}\n`);
  process.exit(0);
}

if (values.only === 'switch') {
  const alone = await BenchServer.start(serverOptions('auto'));
  try {
    await timeToFirstAudio(alone.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
    log('emotion switched inside a phrase');
    const s = await measureSwitch(alone.url, sessionStart, switchPlan);
    process.stdout.write(`| case | first audio p50 | first audio p95 | synthesis RTF |\n|---|---|---|---|\n`);
    for (const [name, ttfa, rtf] of [['plain', s.ttfa.plain, s.rtf.plain], ['switch inside the phrase', s.ttfa.switched, s.rtf.switched]] as const) {
      process.stdout.write(`| ${name} | ${ttfa.p50.toFixed(0)} ms | ${ttfa.p95.toFixed(0)} ms | ${rtf.toFixed(3)} |\n`);
    }
  } finally {
    await alone.stop();
  }
  process.exit(0);
}

log('per-stage real-time factors');
const stageSteps = [...new Set([...plan.steps, manifest.diffusion.steps])].sort((a, b) => a - b);
const stages = await measureStages({ voiceDir, device, sentences: plan.sentences, steps: stageSteps, mixes: MIXES.slice(0, plan.emotions), rounds: plan.rounds });

log("Festival's HTS voice");
const festivalOutcome = await measureFestival(plan.sentences, plan.rounds);
// The long text the breakdown gives one session, for the issue-20 ratios.
const festivalLongText = await measureFestivalText(breakdownText, plan.rounds);

log('starting the server');
const server = await BenchServer.start(serverOptions('auto'));
let ttfa: BenchResults['timeToFirstAudio'];
let ladders: Ladder[];
let fairness: FairnessResults;
let idleRssBytes: number;
let perSessionBytes: number;
let batchOn: ThroughputRun;
let batchOff: ThroughputRun;
let emotionSwitch: SwitchResults;
let supply: SupplyResults;
let breakdown: BreakdownResults;
try {
  await timeToFirstAudio(server.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  idleRssBytes = await server.rss();

  log('time to first audio');
  ttfa = [];
  for (const words of [3, 6, 12] as const) {
    const samples: number[] = [];
    for (let k = 0; k < plan.ttfaSamples; k++) samples.push(await timeToFirstAudio(server.url, sessionStart, `${firstPhrase(words, k)} ${NEXT_WORD}`));
    ttfa.push({ words, ms: percentiles(samples) });
  }

  log('emotion switched inside a phrase');
  emotionSwitch = await measureSwitch(server.url, sessionStart, switchPlan);

  log('one session kept supplied while a long sentence streams in');
  supply = await measureSupply(server.url, sessionStart, plan.supplyRates, plan.supplyRounds, CLIENT_BUFFER_MS);

  log("where one long session's time goes");
  breakdown = await breakdownOf(server);

  log('memory per session');
  perSessionBytes = await memoryPerSession(server, idleRssBytes);

  ladders = [];
  for (const rate of plan.rates) {
    log(`concurrency at ${rate} words/s`);
    ladders.push(await concurrencyLadder(server, rate));
  }

  log("a new session's first audio behind a long text, inference by deadline and as it comes");
  fairness = await fairnessAgainst(server);
} finally {
  await server.stop();
}
log('throughput with and without cross-session batching');
const [withBatching, withoutBatching] = await Promise.all([BenchServer.start(serverOptions('on')), BenchServer.start(serverOptions('off'))]);
try {
  [batchOn, batchOff] = await throughput(withBatching, withoutBatching);
} finally {
  await Promise.all([withBatching.stop(), withoutBatching.stop()]);
}

log(`the early-cut trade-off: replies streamed at ${PHRASING_WORDS_PER_SECOND} words/s`);
const phrasing = await measurePhrasing(phrasingPlan());

const results: Omit<BenchResults, 'targets'> = {
  schema: 1,
  mode: quick ? 'quick' : 'full',
  command: `npm run bench${quick ? ' -- --quick' : ''}`,
  startedAt: startedAt.toISOString(),
  durationSeconds: 0,
  machine,
  load: { before, after: await backgroundLoad(plan.idleMs) },
  voice: { id: manifest.id, defaultSteps: manifest.diffusion.steps, estimator: manifest.estimator.preset, graphs: manifest.files, device: stages.device },
  sessionStart,
  stages: stages.rows,
  timeToFirstAudio: ttfa,
  concurrency: {
    wordsPerSession: plan.words,
    clientBufferMs: CLIENT_BUFFER_MS,
    ladders,
    maxRealtimeSessions: Math.min(...ladders.map((l) => l.maxRealtimeSessions)),
    idleMachineEstimate: idleMachineEstimate(stages.device === 'cuda' ? batchOn : batchOff),
  },
  memory: { idleRssBytes, sessions: plan.memorySessions, perSessionBytes },
  batching: { sessions: plan.batchSessions, wordsPerSession: plan.batchWords, on: batchOn, off: batchOff, speedup: batchOn.audioSecondsPerSecond / batchOff.audioSecondsPerSecond },
  festival: festivalOutcome,
  emotionSwitch,
  phrasing,
  supply,
  breakdown,
  longText: longTextFigures(breakdown, festivalLongText),
  fairness,
};
if (festivalOutcome.available) results.festival = { ...festivalOutcome, ratioToOurs: festivalOutcome.oneProcess / (defaultRow(results, 2)?.endToEnd ?? Number.NaN) };
results.durationSeconds = (performance.now() - began) / 1000;
const final: BenchResults = { ...results, targets: evaluateTargets(results) };

const markdown = renderMarkdown(final);
process.stdout.write(`${markdown}\n`);
if (outFile) {
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(final, null, 2)}\n`);
  log(`wrote ${outFile}`);
}
if (docFile) {
  const doc = await readFile(docFile, 'utf8').catch(() => '# Benchmarks\n');
  await mkdir(dirname(docFile), { recursive: true });
  await writeFile(docFile, spliceIntoDoc(doc, markdown));
  log(`wrote ${docFile}`);
}

/** One load level of the ladder, logged. */
async function trial(target: BenchServer, sessions: number, wordsPerSecond: number): Promise<Trial> {
  const result = await loadTrial(target, loadPlan, sessions, wordsPerSecond);
  log(`  ${sessions} sessions at ${wordsPerSecond} words/s: ${result.realtime ? 'real time' : 'NOT real time'} (${result.underruns} underruns in ${result.drySessions} sessions, margin ${Math.round(result.minSlackMs)} ms, first audio p95 ${Math.round(result.firstAudio.p95)} ms)`);
  return result;
}

/**
 * At one rate: doubles the load from 8 until a level is not real time, then bisects
 * between the last level that was and the first that was not (to within an eighth).
 */
async function concurrencyLadder(target: BenchServer, wordsPerSecond: number): Promise<Ladder> {
  const done: Trial[] = [];
  if (plan.levels.length > 0) {
    for (const n of plan.levels) done.push(await trial(target, n, wordsPerSecond));
  } else {
    let pass = 0;
    let fail = 0;
    for (let n = 8; n <= MAX_SESSIONS; n *= 2) {
      const t = await trial(target, n, wordsPerSecond);
      done.push(t);
      if (!t.realtime) {
        fail = n;
        break;
      }
      pass = n;
    }
    while (fail > 0 && fail - pass > Math.max(1, pass / 8)) {
      const n = Math.round((pass + fail) / 2);
      const t = await trial(target, n, wordsPerSecond);
      done.push(t);
      if (t.realtime) pass = n;
      else fail = n;
    }
  }
  const trials = done.sort((a, b) => a.sessions - b.sessions);
  const passing = trials.filter((t) => t.realtime).sort((a, b) => b.sessions - a.sessions)[0];
  return { wordsPerSecond, trials, maxRealtimeSessions: passing?.sessions ?? 0, firstAudioAtMax: passing?.firstAudio ?? null };
}

/** `server` (inference by deadline, the default) against a server serving it as it comes; see fairness.ts. */
async function fairnessAgainst(server: BenchServer): Promise<FairnessResults> {
  const off = await BenchServer.start(serverOptions('auto', 'arrival'));
  try {
    await timeToFirstAudio(off.url, sessionStart, `${firstPhrase(6, 99)} ${NEXT_WORD}`);
    return await measureFairness({ byDeadline: server.url, byArrival: off.url }, sessionStart, mixedReply(plan.fairnessWords, 400), plan.fairnessRounds);
  } finally {
    await off.stop();
  }
}

/**
 * Audio delivered per wall second by sessions that all get their whole text at once, on
 * a server with batching and one without, taking turns round by round so that both meet
 * the same background load; best round of each.
 */
async function throughput(on: BenchServer, off: BenchServer): Promise<[ThroughputRun, ThroughputRun]> {
  const best = new Map<BenchServer, ThroughputRun>();
  for (let round = 0; round < plan.batchRounds; round++) {
    for (const target of round % 2 === 0 ? [on, off] : [off, on]) {
      const cpuBefore = await target.cpuMs();
      const started = performance.now();
      const runs = await Promise.all(
        Array.from({ length: plan.batchSessions }, (_, k) => streamSession(target.url, sessionStart, conversation(plan.batchWords, 200 + k * 7 + round * 3), Infinity, CLIENT_BUFFER_MS)),
      );
      const wallS = (performance.now() - started) / 1000;
      const audio = runs.reduce((s, r) => s + r.audioSeconds, 0);
      const run = { audioSecondsPerSecond: audio / wallS, cpuMsPerAudioSecond: ((await target.cpuMs()) - cpuBefore) / audio };
      if (run.audioSecondsPerSecond > (best.get(target)?.audioSecondsPerSecond ?? 0)) best.set(target, run);
    }
  }
  const result: [ThroughputRun, ThroughputRun] = [best.get(on)!, best.get(off)!];
  log(`  ${plan.batchSessions} sessions: ${result[0].audioSecondsPerSecond.toFixed(2)} audio s per s with batching, ${result[1].audioSecondsPerSecond.toFixed(2)} without`);
  return result;
}

/**
 * Resident memory that each extra session adds: `plan.memorySessions` sessions talking
 * at real-time pacing (so each holds what a live session holds: its encoder, its phrases
 * rendered ahead, its queue), the median of the samples once they are all under way.
 */
async function memoryPerSession(target: BenchServer, idle: number): Promise<number> {
  const sessions = await Promise.all(
    Array.from({ length: plan.memorySessions }, (_, k) => openSession(target.url, { ...sessionStart, pacing: 'realtime' }, conversation(30, 300 + k * 5))),
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, plan.memorySettleMs));
    const samples: number[] = [];
    for (let i = 0; i < 8; i++) {
      samples.push(await target.rss());
      await new Promise((resolve) => setTimeout(resolve, plan.memorySettleMs / 6));
    }
    return (percentiles(samples).p50 - idle) / plan.memorySessions;
  } finally {
    for (const s of sessions) s.close();
    // Let the server release them before the next part starts.
    await new Promise((resolve) => setTimeout(resolve, plan.memorySettleMs));
  }
}

/**
 * Sessions an otherwise idle machine could keep in real time, going by the server's CPU
 * time per second of audio (the CPU default configuration): every core's second of CPU
 * buys 1000 / cpuMs seconds of audio. An upper bound: it ignores the latency that the
 * concurrency trials measure; null where the CPU time cannot be read or on a GPU.
 */
function idleMachineEstimate(run: ThroughputRun): { cpuMsPerAudioSecond: number; sessions: number } | null {
  if (device === 'cuda' || !Number.isFinite(run.cpuMsPerAudioSecond)) return null;
  return { cpuMsPerAudioSecond: run.cpuMsPerAudioSecond, sessions: Math.floor((machine.cores * 1000) / run.cpuMsPerAudioSecond) };
}
