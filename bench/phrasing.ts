// The early-cut trade-off (#16): how soon the first audio comes against how well the reply is
// understood, for each `--early-cut-words` setting, on replies streamed word by word as a
// language model writes them. Each reply opens with a sentence long enough that an early cut
// can fire before its end arrives; the replies (bench/replies.txt) were written for this
// benchmark and are in no training text. Audio is the server's Opus, decoded as a client
// hears it, and scored like the recipe's `evaluate` (bench/asr.ts).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { speak } from '../src/cli/speak/speak.js';
import { openWavFile } from '../src/cli/speak/wav-file.js';
import { corpusWer, referenceWords, transcribe } from './asr.js';
import type { Start } from './client.js';
import { percentiles, type Percentiles } from './report.js';
import { BenchServer, type ServerOptions } from './server.js';

export interface PhrasingRow {
  /** The server's `--early-cut-words` (0: sentences are never cut before their end). */
  earlyCutWords: number;
  /** From the first word sent to the first audio received. */
  firstAudioMs: Percentiles;
  /** Phrases per reply, mean. */
  phrasesPerReply: number;
  /** pocketsphinx WER over every reply, per seed, in %. */
  werBySeed: number[];
  wer: number;
}

export interface PhrasingResults {
  wordsPerSecond: number;
  replies: number;
  seeds: number[];
  rows: PhrasingRow[];
}

export interface PhrasingPlan {
  server: ServerOptions;
  start: Start;
  settings: number[];
  /** How many of the replies to speak. */
  replies: number;
  seeds: number[];
  wordsPerSecond: number;
  log(line: string): void;
}

/** Off, and early cuts after 3, 4 and 6 words. */
export const PHRASING_SETTINGS = [0, 3, 4, 6];

export async function readReplies(): Promise<string[]> {
  const text = await readFile(new URL('./replies.txt', import.meta.url), 'utf8');
  return text.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** Words with the space after each, one every 1/`wordsPerSecond` s. */
async function* streamed(text: string, wordsPerSecond: number): AsyncGenerator<string> {
  const began = performance.now();
  const words = text.split(/(?<=\s)/);
  for (let i = 0; i < words.length; i++) {
    const wait = began + (i * 1000) / wordsPerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    yield words[i]!;
  }
}

const ignore = { phrase() {}, progress() {}, warning() {} };

async function speakAll(url: string, plan: PhrasingPlan, replies: string[], seed: number, dir: string): Promise<{ firstAudioMs: number[]; phrases: number[]; wavs: string[] }> {
  await mkdir(dir, { recursive: true });
  const out = { firstAudioMs: [] as number[], phrases: [] as number[], wavs: [] as string[] };
  for (let i = 0; i < replies.length; i++) {
    const wav = join(dir, `${String(i).padStart(3, '0')}.wav`);
    const result = await speak({
      url,
      start: { ...plan.start, seed: seed * 1000 + i },
      text: streamed(replies[i]!, plan.wordsPerSecond),
      openSinks: async () => [await openWavFile(wav)],
      events: ignore,
    });
    if (result.failure !== undefined || result.firstAudioMs === null) throw new Error(`phrasing: reply ${i} failed: ${result.failure ?? 'no audio'}`);
    out.firstAudioMs.push(result.firstAudioMs);
    out.phrases.push(result.phrases);
    out.wavs.push(wav);
  }
  return out;
}

/** Transcribes two files at a time (pocketsphinx is single-threaded). */
async function transcribeAll(wavs: string[]): Promise<string[][]> {
  const out: string[][] = new Array(wavs.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < wavs.length; i = next++) out[i] = await transcribe(wavs[i]!);
  };
  await Promise.all([lane(), lane()]);
  return out;
}

export async function measurePhrasing(plan: PhrasingPlan): Promise<PhrasingResults> {
  const replies = (await readReplies()).slice(0, plan.replies);
  const references = replies.map(referenceWords);
  const rows: PhrasingRow[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'emomix-bench-phrasing-'));
  try {
    for (const words of plan.settings) rows.push(await measureSetting(plan, words, replies, references, workDir));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return { wordsPerSecond: plan.wordsPerSecond, replies: replies.length, seeds: plan.seeds, rows };
}

async function measureSetting(plan: PhrasingPlan, words: number, replies: string[], references: string[][], workDir: string): Promise<PhrasingRow> {
  const server = await BenchServer.start({ ...plan.server, flags: [...(plan.server.flags ?? []), '--early-cut-words', String(words)] });
  const spoken = [];
  try {
    for (const seed of plan.seeds) spoken.push(await speakAll(server.url, plan, replies, seed, join(workDir, `early-${words}`, `seed-${seed}`)));
  } finally {
    await server.stop();
  }
  // Recognition runs with the server stopped, so that it never competes with synthesis.
  const werBySeed = [];
  for (const s of spoken) {
    const hypotheses = await transcribeAll(s.wavs);
    werBySeed.push(corpusWer(references.map((reference, i) => ({ reference, hypothesis: hypotheses[i]! }))));
  }
  const row: PhrasingRow = {
    earlyCutWords: words,
    firstAudioMs: percentiles(spoken.flatMap((s) => s.firstAudioMs)),
    phrasesPerReply: spoken.flatMap((s) => s.phrases).reduce((a, b) => a + b, 0) / (replies.length * plan.seeds.length),
    werBySeed,
    wer: werBySeed.reduce((a, b) => a + b, 0) / werBySeed.length,
  };
  plan.log(`  early cut ${words === 0 ? 'off' : `after ${words} words`}: first audio p50 ${Math.round(row.firstAudioMs.p50)} ms, ${row.phrasesPerReply.toFixed(2)} phrases per reply, WER ${row.wer.toFixed(2)} %`);
  return row;
}
