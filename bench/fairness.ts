// Does a new session's first audio wait behind another session's long text? One session is
// given a long text at once (asap pacing: its phrases synthesize flat out, two at a time);
// a moment later a fresh session sends a 6-word first phrase. Measured on a server that
// serves inference calls by deadline and one that serves them as they come
// (`--scheduling arrival`), taking turns round by round so that both meet the same
// background load.
import { synthesisRtf, timeToFirstAudio, type Start } from './client.js';
import { percentiles, type Percentiles } from './report.js';
import { firstPhrase, NEXT_WORD } from './texts.js';

/**
 * How long the long text has been under way when the new session speaks: its first two
 * phrases are then synthesizing (the first wanted at once, the second when the first would
 * have played), so only deadlines put the new session's first phrase before the second.
 */
const LEAD_MS = 50;

export interface FairnessResults {
  /** Words of the long text. */
  longTextWords: number;
  /** The new session speaks this long after the long text was sent. */
  leadMs: number;
  rounds: number;
  /** First audio of the new session, ms. */
  byDeadline: Percentiles;
  byArrival: Percentiles;
}

async function firstAudioBehind(url: string, start: Start, longText: string, k: number): Promise<number> {
  const speaking = synthesisRtf(url, { ...start, pacing: 'asap' }, [longText]);
  await new Promise((resolve) => setTimeout(resolve, LEAD_MS));
  const ms = await timeToFirstAudio(url, start, `${firstPhrase(6, k)} ${NEXT_WORD}`);
  await speaking;
  return ms;
}

export async function measureFairness(urls: { byDeadline: string; byArrival: string }, start: Start, longText: string, rounds: number): Promise<FairnessResults> {
  const samples = { byDeadline: [] as number[], byArrival: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['byDeadline', 'byArrival'] as const) : (['byArrival', 'byDeadline'] as const);
    for (const which of order) samples[which].push(await firstAudioBehind(urls[which], start, longText, round));
  }
  return { longTextWords: longText.split(/\s+/).length, leadMs: LEAD_MS, rounds, byDeadline: percentiles(samples.byDeadline), byArrival: percentiles(samples.byArrival) };
}
