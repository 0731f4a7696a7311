// The benchmark's results: their JSON shape, the targets of issue 7, and the Markdown
// that `npm run bench` writes between the markers of docs/benchmarks.md.
import type { BreakdownResults } from './breakdown.js';
import { DEFAULT_EARLY_CUT_WORDS } from '../src/pipeline/segmenter.js';
import type { FairnessResults } from './fairness.js';
import type { FestivalOutcome, FestivalTextOutcome } from './festival.js';
import type { BackgroundLoad, MachineInfo } from './machine.js';
import type { StageRow } from './stages.js';
import type { SupplyResults } from './supply.js';
import type { PhrasingResults } from './phrasing.js';
import type { SwitchResults } from './switch.js';

export interface Percentiles {
  p50: number;
  p95: number;
  samples: number;
}

export interface Trial {
  sessions: number;
  realtime: boolean;
  underruns: number;
  /** Sessions that ran dry at least once. */
  drySessions: number;
  /** Smallest playback margin of any session, ms. */
  minSlackMs: number;
  firstAudio: Percentiles;
  audioSeconds: number;
  peakRssBytes: number;
  errors: string[];
}

export interface ThroughputRun {
  /** Seconds of audio delivered per second of wall time, all sessions together. */
  audioSecondsPerSecond: number;
  /** Server CPU time per second of audio delivered (NaN where /proc is missing). */
  cpuMsPerAudioSecond: number;
}

export interface BenchResults {
  schema: 1;
  mode: 'full' | 'quick';
  command: string;
  startedAt: string;
  durationSeconds: number;
  machine: MachineInfo;
  load: { before: BackgroundLoad; after: BackgroundLoad };
  /** `graphs`: the voice's graph files (an int8 vocoder shows as vocoder.int8.onnx). */
  voice: { id: string; defaultSteps: number; estimator: string; graphs: Record<string, string>; device: string };
  /** What every WebSocket session asked for. */
  sessionStart: Record<string, unknown>;
  stages: StageRow[];
  timeToFirstAudio: { words: number; ms: Percentiles }[];
  concurrency: {
    wordsPerSession: number;
    clientBufferMs: number;
    /** One ladder per rate, replies of long and short sentences (texts.ts, mixedReply). */
    ladders: Ladder[];
    /** The most sessions real time at every rate. */
    maxRealtimeSessions: number;
    /** From the server's CPU time per second of audio: an upper bound for an otherwise idle machine. */
    idleMachineEstimate: { cpuMsPerAudioSecond: number; sessions: number } | null;
  };
  memory: { idleRssBytes: number; sessions: number; perSessionBytes: number };
  batching: { sessions: number; wordsPerSession: number; on: ThroughputRun; off: ThroughputRun; speedup: number };
  festival: FestivalOutcome & { ratioToOurs?: number };
  /** An emotion switched inside phrases, next to the same speech without it. */
  emotionSwitch: SwitchResults;
  /** One session at a time, a reply with a long second sentence streamed at several rates. */
  supply: SupplyResults;
  /** One long text through one session against the engine alone, stage by stage. */
  breakdown: BreakdownResults;
  /** First audio against WER for each early-cut setting, on replies streamed at an LLM's rate. */
  phrasing: PhrasingResults;
  /** The breakdown's long text: one session against the engine alone and against Festival. */
  longText: LongTextFigures;
  /** A new session's first audio while another speaks a long text. */
  fairness: FairnessResults;
  targets: Target[];
}

export interface Ladder {
  wordsPerSecond: number;
  trials: Trial[];
  maxRealtimeSessions: number;
  firstAudioAtMax: Percentiles | null;
}

export interface LongTextFigures {
  audioSeconds: number;
  /** Text sent at once to the last audio message, best round. */
  sessionWallMs: number;
  /** The engine alone, one worker of one thread, the same phrases one after another. */
  engineWallMs: number;
  /** Festival, the same text in one text2wave process; null where Festival is not installed. */
  festivalWallMs: number | null;
  toEngine: number;
  toFestival: number | null;
}

export function longTextFigures(b: BreakdownResults, festival: FestivalTextOutcome): LongTextFigures {
  const festivalWallMs = festival.available ? festival.wallMs : null;
  return {
    audioSeconds: b.audioSeconds,
    sessionWallMs: b.sessionWallMs,
    engineWallMs: b.engineWallMs,
    festivalWallMs,
    toEngine: b.sessionWallMs / b.engineWallMs,
    toFestival: festivalWallMs === null ? null : b.sessionWallMs / festivalWallMs,
  };
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

/** The early-cut trade-off as a Markdown table, the server's default marked. */
export function phrasingTable(p: PhrasingResults): string {
  return table(
    ['early cut (`--early-cut-words`)', 'first audio p50', 'first audio p95', 'phrases per reply', 'WER (mean)', 'WER by seed'],
    p.rows.map((row) => [
      `${row.earlyCutWords === 0 ? 'off' : `after ${row.earlyCutWords} words`}${row.earlyCutWords === DEFAULT_EARLY_CUT_WORDS ? ' (default)' : ''}`,
      ms(row.firstAudioMs.p50),
      ms(row.firstAudioMs.p95),
      fixed(row.phrasesPerReply, 2),
      `${fixed(row.wer, 2)} %`,
      row.werBySeed.map((w) => fixed(w, 2)).join(' / '),
    ]),
  );
}

export function percentiles(values: number[]): Percentiles {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), samples: sorted.length };
}

export function evaluateTargets(r: Omit<BenchResults, 'targets'>): Target[] {
  const six = r.timeToFirstAudio.find((t) => t.words === 6);
  const e2e = defaultRow(r, 2)?.endToEnd ?? Number.NaN;
  const targets: Target[] = [
    { name: 'time to first audio, 6-word first phrase, p50', goal: '≤ 150 ms', measured: `${ms(six?.ms.p50)}`, met: (six?.ms.p50 ?? Infinity) <= 150 },
    { name: `end-to-end RTF, ${r.voice.defaultSteps} steps, 2-emotion mix`, goal: '≤ 0.1', measured: fixed(e2e, 3), met: e2e <= 0.1 },
    ...closeToTheFloor(r),
  ];
  if (r.festival.available) {
    targets.push({ name: "faster than Festival's HTS voice per second of audio", goal: 'ratio > 1', measured: `${fixed(r.festival.ratioToOurs ?? Number.NaN, 1)}×`, met: (r.festival.ratioToOurs ?? 0) > 1 });
  }
  return targets;
}

/** Issue 20's targets: one long reply near the engine's own cost, and sessions per 2 cores. */
function closeToTheFloor(r: Omit<BenchResults, 'targets'>): Target[] {
  const { longText: l, concurrency: c } = r;
  const rates = c.ladders.map((ladder) => `${ladder.wordsPerSecond}`).join(' and ');
  return [
    { name: 'long text at once, one session / the engine alone (one worker)', goal: '≤ 1.15×', measured: `${fixed(l.toEngine, 2)}×`, met: l.toEngine <= 1.15 },
    ...(l.toFestival === null ? [] : [{ name: "long text at once, one session / Festival's one process", goal: '≤ 0.5×', measured: `${fixed(l.toFestival, 2)}×`, met: l.toFestival <= 0.5 }]),
    { name: `concurrent real-time sessions, long and short sentences at ${rates} words/s`, goal: '≥ 32', measured: c.ladders.map((ladder) => `${ladder.maxRealtimeSessions} at ${ladder.wordsPerSecond}`).join(', '), met: c.maxRealtimeSessions >= 32 },
  ];
}

export function defaultRow(r: Pick<BenchResults, 'stages' | 'voice'>, emotions: number): StageRow | undefined {
  return r.stages.find((row) => row.steps === r.voice.defaultSteps && row.emotions === emotions);
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const ms = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? `${Math.round(v)} ms` : '–');
const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : '–');

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const load = (l: BackgroundLoad) => `${l.busyCores === null ? 'unknown' : `${l.busyCores} of ${r.machine.cores} cores`} busy with other programs, load average ${l.loadAverage1m.toFixed(2)}`;
  const c = r.concurrency;
  const out = [
    `Run of \`${r.command}\` (${r.mode} mode), ${r.startedAt}, ${Math.round(r.durationSeconds)} s, commit ${r.machine.commit}.`,
    '',
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node ${r.machine.node}, onnxruntime-node ${r.machine.onnxruntime}.`,
    `Background load: before the run ${load(r.load.before)}; after it ${load(r.load.after)}.`,
    '',
    `Voice \`${r.voice.id}\` (${r.voice.estimator} estimator, ${r.voice.defaultSteps} steps by default; graphs ${Object.values(r.voice.graphs).join(', ')}) on ${r.voice.device}. WebSocket sessions start with ${JSON.stringify(r.sessionStart)} and use the server's defaults otherwise.`,
    '',
    '### Targets',
    '',
    table(['target', 'goal', 'measured', 'met'], r.targets.map((t) => [t.name, t.goal, t.measured, t.met ? 'yes' : '**no**'])),
    '',
    '### Time to first audio (idle server)',
    '',
    'From sending the `text` message that completes the first phrase to receiving the first `audio` message, one fresh session per sample.',
    '',
    table(['first phrase', 'p50', 'p95', 'samples'], r.timeToFirstAudio.map((t) => [`${t.words} words`, ms(t.ms.p50), ms(t.ms.p95), t.ms.samples])),
    '',
    '### Emotion switched inside a phrase',
    '',
    `The same first phrase of 12 words with and without an \`emotion\` message after its fourth word (samples interleaved); ` +
      `and the server's synthesis real-time factor (\`done.stats\`, best of the rounds) for running conversation with a switch every ${r.emotionSwitch.switchEveryWords} words, between the two emotions of the session's mix, against the same text without switches.`,
    '',
    table(
      ['case', 'first audio p50', 'first audio p95', 'synthesis RTF'],
      [
        ['plain', ms(r.emotionSwitch.ttfa.plain.p50), ms(r.emotionSwitch.ttfa.plain.p95), fixed(r.emotionSwitch.rtf.plain, 3)],
        ['switch inside the phrase', ms(r.emotionSwitch.ttfa.switched.p50), ms(r.emotionSwitch.ttfa.switched.p95), fixed(r.emotionSwitch.rtf.switched, 3)],
      ],
    ),
    '',
    '### One session kept supplied',
    '',
    `One session at a time streams a reply whose short first sentence is spoken long before its long second sentence has arrived (bench/supply.ts), word by word at each rate; ` +
      `the client starts playing after ${r.supply.clientBufferMs} ms of audio. An underrun is an audio message that arrives after its play time; the margin is the smallest time by which one arrived early.`,
    '',
    table(
      ['words/s', 'sessions', 'underruns', 'smallest margin', 'phrases p50', 'first audio p50'],
      r.supply.rows.map((row) => [row.wordsPerSecond, row.sessions, row.underruns, ms(row.minSlackMs), row.phrases.p50, ms(row.firstAudioMs.p50)]),
    ),
    '',
    breakdownMarkdown(r.breakdown),
    '',
    '### Early cut: first audio against WER',
    '',
    `${r.phrasing.replies} replies (bench/replies.txt, written for this benchmark and in no training text), each a sentence of 15–20 words and a short one, streamed word by word at ${r.phrasing.wordsPerSecond} words/s as a language model writes; ` +
      `one fresh session per reply, neutral, seeds ${r.phrasing.seeds.join(', ')}; a server per setting. First audio is timed from the first word sent; WER is pocketsphinx on the Opus audio as the client decoded it, against the front end's spoken words, as the recipe's \`evaluate\` scores it.`,
    '',
    phrasingTable(r.phrasing),
    '',
    longTextMarkdown(r.longText),
    '',
    fairnessMarkdown(r.fairness),
    '',
    '### Real-time factor per stage',
    '',
    'Seconds of work per second of audio (lower is faster), best of the rounds for each of three sentences, one synthesis at a time.',
    '"estimator call" is one call (every emotion row of one step); "estimator" all steps; "resample" the conversion to the Opus encoder\'s input rate (24 kHz for a 22050 Hz voice), in the inference worker after the vocoder. End to end = text in, Opus packets out.',
    '',
    table(
      ['steps', 'emotions', 'front end', 'encoder', 'frame decoder', 'estimator call', 'estimator', 'vocoder', 'resample', 'Opus', 'end to end'],
      r.stages.map((s) => [s.steps, s.emotions, fixed(s.frontend, 4), fixed(s.encoder, 4), fixed(s.decoder, 4), fixed(s.estimatorCall, 4), fixed(s.estimator, 4), fixed(s.vocoder, 4), fixed(s.resample, 4), fixed(s.opus, 4), `**${fixed(s.endToEnd, 3)}**`]),
    ),
    '',
    concurrencyMarkdown(c),
    ...(c.idleMachineEstimate
      ? [
          '',
          `The server spent ${fixed(c.idleMachineEstimate.cpuMsPerAudioSecond, 0)} ms of CPU per second of audio in the throughput runs below (default configuration); ` +
            `${r.machine.cores} cores to itself would then carry at most about ${c.idleMachineEstimate.sessions} real-time sessions (an upper bound that ignores latency, not a measurement).`,
        ]
      : []),
    '',
    '### Memory',
    '',
    `Server resident memory at idle (voice loaded, after one phrase): ${mib(r.memory.idleRssBytes)}; per extra session: ${mib(r.memory.perSessionBytes)} ` +
      `(median RSS with ${r.memory.sessions} sessions talking at real-time pacing, less the idle figure, over ${r.memory.sessions}).`,
    '',
    '### Cross-session batching',
    '',
    `${r.batching.sessions} sessions given ${r.batching.wordsPerSession} words each at once, so that all are mid-synthesis together; best of the rounds.`,
    '',
    table(
      ['estimator batching', 'audio s per wall s', 'server CPU ms per audio s'],
      [
        ['on (`--batching on`; the default on CUDA)', fixed(r.batching.on.audioSecondsPerSecond, 2), fixed(r.batching.on.cpuMsPerAudioSecond, 0)],
        ['off (`--batching off`; the default on the CPU)', fixed(r.batching.off.audioSecondsPerSecond, 2), fixed(r.batching.off.cpuMsPerAudioSecond, 0)],
      ],
    ),
    '',
    `Throughput with batching over without: ${fixed(r.batching.speedup, 2)}×.`,
    '',
    '### Festival (peer)',
    '',
  ];
  const f = r.festival;
  if (f.available) {
    const ours = defaultRow(r, 2);
    out.push(
      table(
        ['system', 'wall time per second of audio'],
        [
          [`Festival ${f.voice}, one text2wave per sentence`, fixed(f.perSentence, 3)],
          [`Festival ${f.voice}, all sentences in one text2wave`, fixed(f.oneProcess, 3)],
          [`EmoMix ${r.voice.id}, ${r.voice.defaultSteps} steps, 2 emotions, end to end`, fixed(ours?.endToEnd ?? Number.NaN, 3)],
        ],
      ),
      '',
      `Festival (one process, its most favourable figure) takes ${fixed(f.ratioToOurs ?? Number.NaN, 1)}× as long as EmoMix per second of audio, on the same sentences.`,
    );
  } else {
    out.push(`Not measured: ${f.reason}.`);
  }
  return out.join('\n');
}

/** The breakdown's section: `npm run bench -- --only breakdown` prints it alone. */
export function breakdownMarkdown(b: BreakdownResults): string {
  const s = b.session;
  const e = b.engine;
  const row = (name: string, session: number | undefined, engine: number | undefined) => [name, ms1(session), ms1(engine)];
  return [
    "### Where a session's time goes",
    '',
    `One text of ${b.sentences} short sentences (${fixed(b.audioSeconds, 1)} s of audio, ${b.phrases} phrases) given at once to one session (Opus, \`pacing: "asap"\`, \`start.timings\`), ` +
      'against the engine alone (in process, one worker of one thread as `emomix synth` runs it, one synthesis at a time) on the phrases the session cut; best round of each, taking turns. ' +
      "Milliseconds summed over the phrases. The session's phrases overlap (one is synthesized while the one before is delivered), so its waits do not add up to its wall time.",
    '',
    table(
      ['stage', 'session', 'engine alone'],
      [
        row('front end', s.frontend, e.frontend),
        row('encoder', s.encoder, e.encoder),
        row('frame decoder', s.decoder, e.decoder),
        row(`estimator (${s.estimatorCalls} calls)`, s.estimator, e.estimator),
        row('vocoder', s.vocoder, e.vocoder),
        row('worker calls: computing (onnxruntime, resampling)', s.worker, e.worker),
        row('worker calls: messaging between threads', s.messaging, e.messaging),
        row('worker calls: waiting for a worker', s.workerQueued, e.workerQueued),
        row('**synthesis**', s.synthesis, e.synthesis),
        row('resampling to the wire', s.resample, undefined),
        row('Opus', s.encode, undefined),
        row('waiting: cut, synthesis not started', s.queued, undefined),
        row('waiting: synthesized, delivery not started', s.held, undefined),
        row('delivery (Opus and socket)', s.delivery, undefined),
        ['**wall time to the last audio**', `**${ms1(b.sessionWallMs)}**`, `**${ms1(b.engineWallMs)}**`],
      ],
    ),
    '',
    `Session over engine alone: **${fixed(b.ratio, 2)}×** (RTF ${fixed(b.sessionWallMs / 1000 / b.audioSeconds, 3)} against ${fixed(b.engineWallMs / 1000 / b.audioSeconds, 3)}). ` +
      `CPU time per second of audio, all threads: the server ${fixed(b.cpuMsPerAudioSecond.session, 1)} ms for the session, the engine alone ${fixed(b.cpuMsPerAudioSecond.engine, 1)} ms.`,
    '',
    table(
      ['phrase', 'audio', 'queued', 'synthesis', 'messaging', 'resample', 'held', 'Opus', 'delivery', 'engine alone'],
      b.perPhrase.map((p) => [p.phrase, ms(p.audioMs), ms1(p.session.queuedMs), ms1(p.session.synthesisMs), ms1(p.session.messagingMs), ms1(p.session.resampleMs), ms1(p.session.heldMs), ms1(p.session.encodeMs), ms1(p.session.deliveryMs), ms1(p.engine.synthesisMs)]),
    ),
  ].join('\n');
}

const ms1 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? `${v.toFixed(1)} ms` : '–');

export const BEGIN_MARKER = '<!-- bench:begin (written by `npm run bench`; edit outside the markers) -->';
export const END_MARKER = '<!-- bench:end -->';

/** `doc` with the text between the markers replaced by `body` (markers appended when missing). */
export function spliceIntoDoc(doc: string, body: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  const block = `${BEGIN_MARKER}\n${body}\n${END_MARKER}`;
  if (begin < 0 || end < begin) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, begin) + block + doc.slice(end + END_MARKER.length);
}

function concurrencyMarkdown(c: BenchResults['concurrency']): string {
  return [
    '### Concurrency',
    '',
    `Each session streams a reply of ${c.wordsPerSession} words mixing short sentences with long ones (20 to 40 words) at each rate (as a language model would), then \`end\`; sessions start spread over one second. ` +
      `A session is real time when its client, starting playback once ${c.clientBufferMs} ms of audio has arrived, never runs dry.`,
    '',
    table(
      ['words/s', 'sessions', 'real time', 'underruns', 'smallest margin', 'first audio p50', 'first audio p95', 'peak RSS'],
      c.ladders.flatMap((l) => l.trials.map((t) => [l.wordsPerSecond, t.sessions, t.realtime ? 'yes' : 'no', t.underruns, ms(t.minSlackMs), ms(t.firstAudio.p50), ms(t.firstAudio.p95), mib(t.peakRssBytes)])),
    ),
    '',
    ...c.ladders.map((l) => `Largest real-time load at ${l.wordsPerSecond} words/s: **${l.maxRealtimeSessions} sessions**${l.firstAudioAtMax ? `, time to first audio there p95 ${ms(l.firstAudioAtMax.p95)}` : ''}.`),
  ].join('\n');
}

function longTextMarkdown(l: LongTextFigures): string {
  return [
    '### One long text at once',
    '',
    `The breakdown's text (${fixed(l.audioSeconds, 1)} s of audio) given at once to one session, to its last audio message; the engine alone on the same phrases (one worker, one after another); ` +
      'Festival on the same text in one text2wave process. Best round of each, in the same run.',
    '',
    table(
      ['system', 'wall time', 'session over it'],
      [
        ['one session (two phrases at once)', ms(l.sessionWallMs), '–'],
        ['the engine alone, one worker', ms(l.engineWallMs), `**${fixed(l.toEngine, 2)}×**`],
        ['Festival, one process', l.festivalWallMs === null ? 'not installed' : ms(l.festivalWallMs), l.toFestival === null ? '–' : `**${fixed(l.toFestival, 2)}×**`],
      ],
    ),
  ].join('\n');
}

function fairnessMarkdown(f: FairnessResults): string {
  return [
    '### First audio behind a long text',
    '',
    `One session is given ${f.longTextWords} words at once (asap pacing); ${f.leadMs} ms later a fresh session sends a 6-word first phrase. ` +
      `Its time to first audio on a server that serves inference calls by the time their listener needs them, and on one that serves them as they come (\`--scheduling arrival\`), rounds taking turns.`,
    '',
    table(
      ['server', 'first audio p50', 'first audio p95', 'samples'],
      [
        ['by deadline (default)', ms(f.byDeadline.p50), ms(f.byDeadline.p95), f.byDeadline.samples],
        ['as they come', ms(f.byArrival.p50), ms(f.byArrival.p95), f.byArrival.samples],
      ],
    ),
  ].join('\n');
}
