/**
 * `npx tsx bench/transition.ts`: how long a change of emotion inside a phrase should take.
 * Each sentence is rendered happy, sad, and happy switching to sad between two words
 * (no pause between them) with transitions of several lengths, same seed. For each length:
 *  - jump: the largest frame-to-frame change of the log-mel (mean |Δ| over the 80 bands)
 *    within ±3 frames of the switch, divided by the largest in the same place of the
 *    all-sad rendering (1 = no harder an edge than the voice makes there by itself);
 *  - sad after: the voice's SER probability of sad on the words after the switch, divided
 *    by the same on the all-sad rendering's words (1 = as sad as speaking sad throughout);
 *  - happy before: the same for happy on the words before it, against the all-happy one.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine, type SynthesisResult } from '../src/pipeline/synthesis/index.js';

const { values } = parseArgs({ options: { models: { type: 'string', default: 'models' }, voice: { type: 'string', default: 'slt-emo' } } });
const TRANSITIONS = [0, 20, 40, 60, 100, 160, 240];
/** Sentences with the word after which they switch. */
const SENTENCES: [string, number][] = [
  ['I am so glad you came but I have some terrible news about your brother.', 6],
  ['We won the whole game tonight and then we lost everything we had.', 6],
  ['The garden looks lovely this morning although the old tree finally died.', 6],
];
const SEED = 11;

const engine = await Engine.create({ voiceDir: join(values.models!, values.voice!), cacheEntries: 0 });
const frameMs = (engine.voice.mel.hopLength / engine.voice.audio.sampleRate) * 1000;
const rate = engine.voice.audio.sampleRate;

function frameJumps(mel: Float32Array, frames: number, from: number, to: number): number {
  let max = 0;
  for (let f = Math.max(1, from); f < Math.min(frames, to); f++) {
    let sum = 0;
    for (let c = 0; c < 80; c++) sum += Math.abs(mel[c * frames + f]! - mel[c * frames + f - 1]!);
    max = Math.max(max, sum / 80);
  }
  return max;
}

async function probability(result: SynthesisResult, fromMs: number, toMs: number, emotion: string): Promise<number> {
  const wave = result.audio.subarray(Math.round((fromMs / 1000) * rate), Math.round((toMs / 1000) * rate));
  return (await engine.recognise(wave))[emotion]!;
}

const rows = TRANSITIONS.map((ms) => ({ ms, jump: 0, sad: 0, happy: 0 }));
for (const [text, word] of SENTENCES) {
  const happy = await engine.synthesize(text, { weights: { happy: 1 }, seed: SEED });
  const sad = await engine.synthesize(text, { weights: { sad: 1 }, seed: SEED });
  const sadWords = sad.words;
  const sadFrames = sad.mel.length / 80;
  const sadSwitch = Math.round(sadWords[word - 1]!.endMs / frameMs);
  const sadJump = frameJumps(sad.mel, sadFrames, sadSwitch - 3, sadSwitch + 4);
  const sadAfter = await probability(sad, sadWords[word]!.startMs, sadWords.at(-1)!.endMs, 'sad');
  const happyBefore = await probability(happy, 0, happy.words[word - 1]!.endMs, 'happy');
  for (const row of rows) {
    const mixed = await engine.synthesize(text, { weights: { happy: 1 }, changes: [{ word, to: { sad: 1 }, rampMs: 0 }], transitionMs: row.ms, seed: SEED });
    const frames = mixed.mel.length / 80;
    const at = Math.round(mixed.emotion.anchorsMs[0]! / frameMs);
    row.jump += frameJumps(mixed.mel, frames, at - 3, at + 4) / sadJump / SENTENCES.length;
    row.sad += (await probability(mixed, mixed.words[word]!.startMs, mixed.words.at(-1)!.endMs, 'sad')) / sadAfter / SENTENCES.length;
    row.happy += (await probability(mixed, 0, mixed.words[word - 1]!.endMs, 'happy')) / happyBefore / SENTENCES.length;
  }
}
await engine.close();
console.log('| transition (ms) | jump at the switch (× all-sad) | sad after (× all-sad) | happy before (× all-happy) |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.ms} | ${r.jump.toFixed(2)} | ${r.sad.toFixed(2)} | ${r.happy.toFixed(2)} |`);
