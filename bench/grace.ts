// What the first-audio grace (--first-audio-grace-ms, PlayClock) trades: under a load that
// the two cores only just carry, the sessions that run dry against how long new sessions wait
// for their first audio. One server per grace, the same trials taking turns on each.
import { loadTrial, type LoadPlan } from './load.js';
import type { Percentiles } from './report.js';
import { BenchServer, type ServerOptions } from './server.js';
import { timeToFirstAudio } from './client.js';

export interface GracePlan {
  server(graceMs: number): ServerOptions;
  load: LoadPlan;
  /** A warm-up text for each fresh server. */
  warmUp: string;
  sessions: number;
  rates: number[];
  rounds: number;
  graces: number[];
  log(line: string): void;
}

export interface GraceRow {
  graceMs: number;
  wordsPerSecond: number;
  sessions: number;
  /** Sessions that ran dry, one count per round. */
  drySessions: number[];
  /** Smallest playback margin over every round, ms. */
  minSlackMs: number;
  /** First audio, per round. */
  firstAudio: Percentiles[];
}

export async function measureGrace(plan: GracePlan): Promise<GraceRow[]> {
  const servers = await Promise.all(plan.graces.map((g) => BenchServer.start(plan.server(g))));
  try {
    for (const server of servers) await timeToFirstAudio(server.url, plan.load.start, plan.warmUp);
    const rows = plan.rates.flatMap((wordsPerSecond) =>
      plan.graces.map((graceMs): GraceRow => ({ graceMs, wordsPerSecond, sessions: plan.sessions, drySessions: [], minSlackMs: Infinity, firstAudio: [] })),
    );
    for (let round = 0; round < plan.rounds; round++) {
      for (const wordsPerSecond of plan.rates) {
        // Taking turns, in an order that changes each round, so that every server meets the same background load.
        const order = plan.graces.map((_, i) => (i + round) % plan.graces.length);
        for (const i of order) {
          const t = await loadTrial(servers[i]!, plan.load, plan.sessions, wordsPerSecond);
          if (t.errors.length > 0) throw new Error(`grace ${plan.graces[i]} ms: ${t.errors.join('; ')}`);
          const row = rows.find((r) => r.wordsPerSecond === wordsPerSecond && r.graceMs === plan.graces[i])!;
          row.drySessions.push(t.drySessions);
          row.minSlackMs = Math.min(row.minSlackMs, t.minSlackMs);
          row.firstAudio.push(t.firstAudio);
          plan.log(`  grace ${plan.graces[i]} ms, ${plan.sessions} sessions at ${wordsPerSecond} words/s: ${t.drySessions} ran dry, margin ${Math.round(t.minSlackMs)} ms, first audio p50 ${Math.round(t.firstAudio.p50)} / p95 ${Math.round(t.firstAudio.p95)} ms`);
        }
      }
    }
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export function graceTable(rows: GraceRow[]): string {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const lines = ['| grace | words/s | sessions | ran dry, per round | smallest margin | first audio p50 (mean of rounds) | first audio p95 (worst round) |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.graceMs} ms | ${r.wordsPerSecond} | ${r.sessions} | ${r.drySessions.join(', ')} | ${Math.round(r.minSlackMs)} ms | ${Math.round(mean(r.firstAudio.map((f) => f.p50)))} ms | ${Math.round(Math.max(...r.firstAudio.map((f) => f.p95)))} ms |`);
  }
  return lines.join('\n');
}
