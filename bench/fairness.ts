// Does a new session's first audio wait behind another session's long text? One session is
// given a long text at once (asap pacing: its phrases synthesize flat out, two at a time);
// a moment later a fresh session sends a 6-word first phrase. Measured on a server with the
// next-phrase priority and one without (`--phrase-priority off`), taking turns round by
// round so that both meet the same background load.
import { synthesisRtf, timeToFirstAudio, type Start } from './client.js';
import { percentiles, type Percentiles } from './report.js';
import { firstPhrase, NEXT_WORD } from './texts.js';

/**
 * How long the long text has been under way when the new session speaks: its first two
 * phrases are then synthesizing, both wanted at once (later ones are wanted as its audio
 * would play, after the new session's), so only the priority puts the new session first.
 */
const LEAD_MS = 50;

export interface FairnessResults {
  /** Words of the long text. */
  longTextWords: number;
  /** The new session speaks this long after the long text was sent. */
  leadMs: number;
  rounds: number;
  /** First audio of the new session, ms. */
  withPriority: Percentiles;
  withoutPriority: Percentiles;
}

async function firstAudioBehind(url: string, start: Start, longText: string, k: number): Promise<number> {
  const speaking = synthesisRtf(url, { ...start, pacing: 'asap' }, [longText]);
  await new Promise((resolve) => setTimeout(resolve, LEAD_MS));
  const ms = await timeToFirstAudio(url, start, `${firstPhrase(6, k)} ${NEXT_WORD}`);
  await speaking;
  return ms;
}

export async function measureFairness(urls: { withPriority: string; withoutPriority: string }, start: Start, longText: string, rounds: number): Promise<FairnessResults> {
  const samples = { withPriority: [] as number[], withoutPriority: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['withPriority', 'withoutPriority'] as const) : (['withoutPriority', 'withPriority'] as const);
    for (const which of order) samples[which].push(await firstAudioBehind(urls[which], start, longText, round));
  }
  return { longTextWords: longText.split(/\s+/).length, leadMs: LEAD_MS, rounds, withPriority: percentiles(samples.withPriority), withoutPriority: percentiles(samples.withoutPriority) };
}
