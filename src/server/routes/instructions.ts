// OpenAI's `instructions` ("Speak in a cheerful tone") as an emotion mix. The
// grammar (docs/clients.md): an emotion tag as in the markup
// (`[emotion=happy:0.7,sad:0.3 intensity=0.8]`), or else every emotion named in
// the text, by the voice's own name or a synonym below, optionally followed by a
// weight (`happy 0.7`, `happy: 0.7`, `happy=0.7`, `happy 70%`); a name without
// a weight weighs 1. Free text naming no emotion leaves the voice neutral, so
// instructions written for OpenAI's voices still work.
import { checkedMix } from '../../pipeline/synthesis/index.js';
import { changeForTag, toWeights } from '../emotion-timeline.js';
import { parseEmotionTag } from '../markup.js';
import type { EmotionWeights } from '../../protocol/index.js';

/** Words that name one of the usual emotions of an EmoMix voice. */
const SYNONYMS: Record<string, string> = {
  calm: 'neutral',
  flat: 'neutral',
  neutral: 'neutral',
  cheerful: 'happy',
  happily: 'happy',
  joyful: 'happy',
  joyfully: 'happy',
  excited: 'happy',
  upbeat: 'happy',
  sadly: 'sad',
  sorrowful: 'sad',
  melancholic: 'sad',
  gloomy: 'sad',
  unhappy: 'sad',
  angrily: 'angry',
  furious: 'angry',
  annoyed: 'angry',
  irritated: 'angry',
  mad: 'angry',
  surprised: 'surprise',
  astonished: 'surprise',
  amazed: 'surprise',
  shocked: 'surprise',
};

const TERM = /([A-Za-z][A-Za-z_-]*)(?:\s*[:=]?\s*(\d+(?:\.\d+)?)(\s*%)?)?/g;

const TAG = /\[emotion[^\]]{0,256}\]/iu;

/**
 * The mix the instructions ask for, or undefined when they name no emotion of the voice.
 * Throws an Error saying what is wrong with an emotion tag.
 */
export function emotionFromInstructions(instructions: string, voice: { emotions: readonly string[]; neutral: string }): EmotionWeights | undefined {
  const { emotions } = voice;
  const tag = TAG.exec(instructions)?.[0];
  if (tag !== undefined) {
    const base = checkedMix({ [voice.neutral]: 1 });
    const change = changeForTag(parseEmotionTag(tag), { neutral: voice.neutral, known: emotions, base });
    if (typeof change === 'string') throw new Error(change);
    return toWeights(change.mix);
  }
  const byName = new Map(emotions.map((e) => [e.toLowerCase(), e]));
  const mix: EmotionWeights = {};
  for (const [, word, number, percent] of instructions.matchAll(TERM)) {
    const lower = word!.toLowerCase();
    const emotion = byName.get(lower) ?? byName.get(SYNONYMS[lower] ?? '');
    if (emotion === undefined) continue;
    const weight = number === undefined ? 1 : Number(number) / (percent ? 100 : 1);
    mix[emotion] = (mix[emotion] ?? 0) + weight;
  }
  return Object.values(mix).some((w) => w > 0) ? mix : undefined;
}
