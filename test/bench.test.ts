// `npm run bench -- --quick` end to end: the real server, real clients, Festival when
// installed. Only the shape and sanity of what it writes are checked here; its timings
// belong to the benchmark, never to a test.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, type BenchResults } from '../bench/report.js';
import { DEFAULT_EARLY_CUT_WORDS } from '../src/pipeline/segmenter.js';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const positive = (v: number) => Number.isFinite(v) && v > 0;

describe('npm run bench -- --quick', () => {
  let dir: string;
  let results: BenchResults;
  let doc: string;
  let stdout: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emomix-bench-'));
    const out = join(dir, 'results.json');
    const docFile = join(dir, 'benchmarks.md');
    ({ stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out, '--doc', docFile], { cwd: ROOT, timeout: 120_000 }));
    results = JSON.parse(await readFile(out, 'utf8')) as BenchResults;
    doc = await readFile(docFile, 'utf8');
  }, 150_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('describes the run, the machine and its load', () => {
    expect(results).toMatchObject({ schema: 1, mode: 'quick', command: 'npm run bench -- --quick', voice: { id: 'slt-emo', estimator: 'dilated1d' } });
    expect(positive(results.machine.cores)).toBe(true);
    expect(new Date(results.startedAt).getTime()).toBeGreaterThan(0);
    for (const load of [results.load.before, results.load.after]) expect(load.busyCores === null || load.busyCores >= 0).toBe(true);
  });

  it('gives each stage’s real-time factor, end to end covering every stage', () => {
    expect(results.stages.length).toBeGreaterThan(0);
    for (const row of results.stages) {
      for (const stage of ['encoder', 'decoder', 'estimatorCall', 'estimator', 'vocoder', 'resample', 'opus', 'endToEnd'] as const) expect(positive(row[stage]), stage).toBe(true);
      expect(row.estimator).toBeGreaterThanOrEqual(row.estimatorCall);
      expect(row.endToEnd).toBeGreaterThanOrEqual(row.estimator + row.vocoder);
    }
    expect(results.stages.map((r) => r.emotions)).toContain(2);
  });

  it('measures time to first audio for first phrases of 3, 6 and 12 words', () => {
    expect(results.timeToFirstAudio.map((t) => t.words)).toEqual([3, 6, 12]);
    for (const t of results.timeToFirstAudio) {
      expect(positive(t.ms.p50)).toBe(true);
      expect(t.ms.p95).toBeGreaterThanOrEqual(t.ms.p50);
    }
  });

  it('runs concurrent sessions that all receive audio, and reads the server’s memory', () => {
    const c = results.concurrency;
    expect(c.ladders.map((l) => l.wordsPerSecond)).toEqual([30]);
    const trials = c.ladders[0]!.trials;
    expect(trials.map((t) => t.sessions)).toEqual([1, 2]);
    for (const t of trials) {
      expect(t.errors).toEqual([]);
      expect(positive(t.audioSeconds)).toBe(true);
      expect(t.peakRssBytes).toBeGreaterThanOrEqual(results.memory.idleRssBytes * 0.5);
    }
    expect([0, 1, 2]).toContain(c.maxRealtimeSessions);
    expect(results.memory.idleRssBytes).toBeGreaterThan(50 * 2 ** 20);
    expect(results.memory.sessions).toBe(2);
    expect(Number.isFinite(results.memory.perSessionBytes)).toBe(true);
    if (c.idleMachineEstimate) expect(c.idleMachineEstimate.sessions).toBeGreaterThanOrEqual(0);
  });

  it('compares throughput with and without cross-session batching', () => {
    expect(positive(results.batching.on.audioSecondsPerSecond)).toBe(true);
    expect(positive(results.batching.off.audioSecondsPerSecond)).toBe(true);
    expect(results.batching.speedup).toBeCloseTo(results.batching.on.audioSecondsPerSecond / results.batching.off.audioSecondsPerSecond, 6);
  });

  it('measures first audio and real-time factor with an emotion switched inside a phrase, next to the plain case', () => {
    const s = results.emotionSwitch;
    for (const ttfa of [s.ttfa.plain, s.ttfa.switched]) expect(positive(ttfa.p50) && ttfa.samples === 1).toBe(true);
    expect(positive(s.rtf.plain) && positive(s.rtf.switched)).toBe(true);
    expect(stdout).toContain('### Emotion switched inside a phrase');
    expect(stdout).toMatch(/\| switch inside the phrase \| \d+ ms \|/);
  });

  it('streams a reply with a long second sentence to one session and counts underruns', () => {
    expect(results.supply.rows.map((r) => r.wordsPerSecond)).toEqual([30]);
    const row = results.supply.rows[0]!;
    expect(row.sessions).toBe(1);
    expect(Number.isInteger(row.underruns) && row.underruns >= 0).toBe(true);
    expect(row.phrases.p50).toBeGreaterThanOrEqual(3);
    expect(stdout).toContain('### One session kept supplied');
  });

  it('measures the early-cut trade-off: first audio and WER of replies streamed at 30 words/s, per setting', () => {
    const p = results.phrasing;
    expect(p.wordsPerSecond).toBe(30);
    expect(p.rows.map((r) => r.earlyCutWords)).toEqual([0, DEFAULT_EARLY_CUT_WORDS]);
    for (const row of p.rows) {
      expect(positive(row.firstAudioMs.p50)).toBe(true);
      // The real voice, decoded from Opus and recognised: intelligible, not noise.
      expect(row.wer).toBeGreaterThanOrEqual(0);
      expect(row.wer).toBeLessThan(60);
    }
    // The reply's long first sentence is spoken whole with early cuts off, and cut early with them on.
    expect(p.rows[0]!.phrasesPerReply).toBe(2);
    expect(p.rows[1]!.phrasesPerReply).toBeGreaterThanOrEqual(3);
    expect(stdout).toContain('### Early cut: first audio against WER');
  });

  it('measures Festival on the same sentences, or says why not', () => {
    const f = results.festival;
    if (f.available) {
      expect(positive(f.perSentence) && positive(f.oneProcess) && positive(f.ratioToOurs ?? Number.NaN)).toBe(true);
    } else {
      expect(f.reason).toMatch(/text2wave/);
    }
  });

  it('sets one long text through one session against the engine alone and Festival, and measures first audio behind it', () => {
    const l = results.longText;
    expect(positive(l.sessionWallMs) && positive(l.engineWallMs)).toBe(true);
    expect(l.toEngine).toBeCloseTo(l.sessionWallMs / l.engineWallMs, 6);
    if (results.festival.available) expect(positive(l.toFestival ?? Number.NaN)).toBe(true);
    const f = results.fairness;
    expect(f.rounds).toBe(1);
    expect(positive(f.byDeadline.p50) && positive(f.byArrival.p50)).toBe(true);
    expect(stdout).toContain('### One long text at once');
    expect(stdout).toContain('### First audio behind a long text');
    expect(results.targets.map((t) => t.goal)).toEqual(expect.arrayContaining(['≤ 1.15×', '≥ 32']));
  });

  it('judges every target and prints and writes the Markdown tables', () => {
    expect(results.targets.length).toBeGreaterThanOrEqual(3);
    for (const t of results.targets) expect(typeof t.met).toBe('boolean');
    expect(doc).toContain(BEGIN_MARKER);
    expect(doc).toContain(END_MARKER);
    expect(doc).toContain('| target | goal | measured | met |');
    expect(stdout).toContain('### Real-time factor per stage');
  });
});
