// From LiveKit's expressions to emomix emotion mixes. LiveKit normalises any
// delivery label ("really bright, upbeat energy", "excited", "sympathetic") to
// one of its eleven moods with `tts.matchMood`; each mood has a mix of the
// five emotions emomix voices are trained on. The table is documented in the
// README; change both together.
import { tts } from '@livekit/agents';
import type { Weights } from './protocol.js';

export type AgentMood = tts.AgentMood;

export const MOOD_EMOTIONS: Readonly<Record<AgentMood, Weights>> = {
  excited: { happy: 0.6, surprise: 0.4 },
  happy: { happy: 1 },
  playful: { happy: 0.7, surprise: 0.3 },
  curious: { surprise: 0.4, neutral: 0.6 },
  surprised: { surprise: 1 },
  hopeful: { happy: 0.5, neutral: 0.5 },
  empathetic: { sad: 0.4, neutral: 0.6 },
  sad: { sad: 1 },
  angry: { angry: 1 },
  anxious: { sad: 0.5, surprise: 0.5 },
  calm: { neutral: 1 },
};

/** Labels the dialect teaches (`tts.markup.llmInstructions()`) that LiveKit's mood keywords leave unmatched. */
export const UNMATCHED_LABELS: Readonly<Record<string, AgentMood>> = {
  confused: 'curious',
  flirtatious: 'playful',
  mysterious: 'calm',
};

/**
 * The mix for an expression label, restricted to the voice's emotions. A label
 * that names one of the voice's emotions is that emotion alone; anything else
 * goes through LiveKit's mood matching, then UNMATCHED_LABELS (other labels
 * read as `calm`).
 */
export function expressionMix(label: string, emotions: readonly string[], neutral: string): Weights {
  const named = label.trim().toLowerCase();
  if (emotions.includes(named)) return { [named]: 1 };
  const mood = tts.matchMood(label, null) ?? UNMATCHED_LABELS[named] ?? tts.DEFAULT_MOOD;
  const mix = MOOD_EMOTIONS[mood];
  const kept = Object.entries(mix)
    .map(([name, weight]) => [name === 'neutral' ? neutral : name, weight] as const)
    .filter(([name]) => emotions.includes(name));
  return kept.length > 0 ? Object.fromEntries(kept) : { [neutral]: 1 };
}
