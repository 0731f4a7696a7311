// Does a single session keep its listener supplied while an LLM's reply streams in? A short
// first sentence is spoken long before the long second one is complete; unless the server cuts
// that sentence at a pause point in time, the listener hears silence in between.
import { streamSession, type Start } from './client.js';
import { percentiles, type Percentiles } from './report.js';

/** A reply whose second sentence is long and streams in well after the first is spoken. */
export const SUPPLY_REPLY =
  'Sure, I can help with that. ' +
  'If we leave the harbour before the tide turns we could follow the coast road past the lighthouse, ' +
  'but it will take most of the morning and the ferry only runs twice a day in winter. ' +
  'So pack something warm.';

export interface SupplyRow {
  wordsPerSecond: number;
  sessions: number;
  underruns: number;
  /** Smallest margin between an audio message's arrival and its play time, over every session (ms). */
  minSlackMs: number;
  phrases: Percentiles;
  firstAudioMs: Percentiles;
}

export interface SupplyResults {
  clientBufferMs: number;
  rows: SupplyRow[];
}

/** One session at a time (an otherwise idle server), `rounds` sessions per rate. */
export async function measureSupply(url: string, start: Start, rates: number[], rounds: number, bufferMs: number): Promise<SupplyResults> {
  const rows: SupplyRow[] = [];
  for (const wordsPerSecond of rates) {
    const runs = [];
    for (let k = 0; k < rounds; k++) runs.push(await streamSession(url, { ...start, seed: 11 + k }, SUPPLY_REPLY, wordsPerSecond, bufferMs));
    const errors = runs.flatMap((r) => r.errors);
    if (errors.length > 0) throw new Error(`supply at ${wordsPerSecond} words/s: ${errors.join('; ')}`);
    rows.push({
      wordsPerSecond,
      sessions: runs.length,
      underruns: runs.reduce((n, r) => n + r.playback.underruns, 0),
      minSlackMs: Math.min(...runs.map((r) => r.playback.minSlackMs)),
      phrases: percentiles(runs.map((r) => r.phrases)),
      firstAudioMs: percentiles(runs.map((r) => r.firstAudioMs)),
    });
  }
  return { clientBufferMs: bufferMs, rows };
}
