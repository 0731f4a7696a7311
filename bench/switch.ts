// Emotion switched inside a phrase (issue 15), next to the same speech without the
// switch: time to first audio of a 12-word first phrase with an `emotion` message
// after its fourth word, and the synthesis real-time factor of running conversation
// with a switch every few words (between the two emotions of the session's mix, so
// both runs ask the estimator for the same rows).
import { synthesisRtf, timeToFirstAudioOf, type Start, type Step } from './client.js';
import { percentiles, type Percentiles } from './report.js';
import { conversation, firstPhrase, NEXT_WORD } from './texts.js';

export interface SwitchResults {
  /** Words between two switches in the real-time-factor runs. */
  switchEveryWords: number;
  ttfa: { plain: Percentiles; switched: Percentiles };
  /** Best of the rounds. */
  rtf: { plain: number; switched: number };
}

export interface SwitchPlan {
  ttfaSamples: number;
  rounds: number;
  words: number;
}

const SWITCH_EVERY = 4;

/** The first phrase cut after its fourth word, with `between` there (nothing or an emotion). */
function firstPhraseSteps(k: number, between: Step[]): Step[] {
  const words = `${firstPhrase(12, k)} ${NEXT_WORD}`.split(' ');
  // Four words and a space: too few for the segmenter's early first-phrase cut.
  return [`${words.slice(0, 4).join(' ')} `, ...between, words.slice(4).join(' ')];
}

/** Running conversation cut every SWITCH_EVERY words, alternating between the mix's emotions at each cut. */
function conversationSteps(words: number, offset: number, emotions: string[], switches: boolean): Step[] {
  const all = conversation(words, offset).split(/(?<=\s)/);
  const steps: Step[] = [];
  for (let i = 0; i < all.length; i += SWITCH_EVERY) {
    if (switches && i > 0) steps.push({ type: 'emotion', weights: { [emotions[(i / SWITCH_EVERY) % emotions.length]!]: 1 } });
    steps.push(all.slice(i, i + SWITCH_EVERY).join(''));
  }
  return steps;
}

export async function measureSwitch(url: string, start: Start & { emotion: Record<string, number> }, plan: SwitchPlan): Promise<SwitchResults> {
  const emotions = Object.keys(start.emotion);
  const switchTo: Step = { type: 'emotion', weights: { [emotions[emotions.length - 1]!]: 1 } };
  const plain: number[] = [];
  const switched: number[] = [];
  for (let k = 0; k < plan.ttfaSamples; k++) {
    // Interleaved, so that load on a shared machine falls on both alike.
    plain.push(await timeToFirstAudioOf(url, start, firstPhraseSteps(k, [])));
    switched.push(await timeToFirstAudioOf(url, start, firstPhraseSteps(k, [switchTo])));
  }
  let rtfPlain = Infinity;
  let rtfSwitched = Infinity;
  for (let round = 0; round < plan.rounds; round++) {
    rtfPlain = Math.min(rtfPlain, await synthesisRtf(url, start, conversationSteps(plan.words, round * 5, emotions, false)));
    rtfSwitched = Math.min(rtfSwitched, await synthesisRtf(url, start, conversationSteps(plan.words, round * 5, emotions, true)));
  }
  return { switchEveryWords: SWITCH_EVERY, ttfa: { plain: percentiles(plain), switched: percentiles(switched) }, rtf: { plain: rtfPlain, switched: rtfSwitched } };
}
