// OpenAI's `instructions` ("Speak in a cheerful tone") as an emotion mix. The
// grammar (docs/clients.md): every emotion named in the text, by the voice's own
// name or a synonym below, optionally followed by a weight (`happy 0.7`,
// `happy: 0.7`, `happy=0.7`, `happy 70%`); a name without a weight weighs 1.
// Free text naming no emotion leaves the voice neutral, so instructions written
// for OpenAI's voices still work.
import type { EmotionWeights } from '../protocol.js';

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

/** The mix the instructions ask for, or undefined when they name no emotion of the voice. */
export function emotionFromInstructions(instructions: string, emotions: readonly string[]): EmotionWeights | undefined {
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
