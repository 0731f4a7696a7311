/**
 * Synthesis benchmark: per-stage timings and real-time factor (RTF = synthesis time /
 * audio duration; below 1 is faster than real time) for a few sentences, at 2, 4 and
 * 10 diffusion steps, with one emotion and with a two-emotion mix (two estimator rows
 * per step in score mode).
 *
 *   npx tsx bench/synthesis.ts [voiceDir=models/slt-emo] [--workers N] [--threads N] [--device cpu|cuda] [--rounds N]
 *
 * Each configuration runs every sentence `rounds` times (default 3) after one warm-up
 * and reports the best round per sentence summed over sentences (best, not mean,
 * because the machine is shared and noise only ever adds time).
 */
import { parseArgs } from 'node:util';
import { Engine, type SynthesisRequest, type SynthesisResult } from '../src/pipeline/synthesis/index.js';

const SENTENCES = [
  'Hello there.',
  'I really did not expect to see you here today, but I am glad that you came.',
  'The quick brown fox jumps over the lazy dog, and then it runs back into the forest before anyone notices.',
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string' },
    threads: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    rounds: { type: 'string', default: '3' },
  },
});
const voiceDir = positionals[0] ?? 'models/slt-emo';
const rounds = Number(values.rounds);

const engine = await Engine.create({
  voiceDir,
  device: values.device === 'cuda' ? 'cuda' : 'cpu',
  ...(values.workers ? { workers: Number(values.workers) } : {}),
  ...(values.threads ? { intraOpThreads: Number(values.threads) } : {}),
});
const [first, second] = engine.voice.emotions.map((e) => e.name).filter((n) => n !== engine.voice.neutral);
const mixes: [string, Record<string, number>][] = [
  ['1 emotion', { [first ?? engine.voice.neutral]: 1 }],
  ['2 emotions', { [first ?? engine.voice.neutral]: 0.6, [second ?? engine.voice.neutral]: 0.4 }],
];

console.log(`voice ${engine.voice.id} (${voiceDir}), device ${engine.device}, ${SENTENCES.length} sentences, best of ${rounds}`);
console.log(['steps', 'mix', 'audio s', 'front ms', 'encoder ms', 'estimator ms', 'per step ms', 'vocoder ms', 'total ms', 'RTF'].join('\t'));

async function best(text: string, request: SynthesisRequest): Promise<SynthesisResult> {
  let fastest: SynthesisResult | undefined;
  for (let r = 0; r < rounds; r++) {
    const result = await engine.synthesize(text, request);
    if (!fastest || result.timings.totalMs < fastest.timings.totalMs) fastest = result;
  }
  return fastest!;
}

try {
  await engine.synthesize(SENTENCES[1]!, { weights: mixes[1]![1], steps: 2, seed: 0 });
  for (const steps of [2, 4, 10]) {
    for (const [label, weights] of mixes) {
      const sum = { audio: 0, front: 0, encoder: 0, estimator: 0, vocoder: 0, total: 0 };
      for (const text of SENTENCES) {
        const r = await best(text, { weights, steps, seed: 1 });
        sum.audio += r.durationMs / 1000;
        sum.front += r.timings.frontendMs;
        sum.encoder += r.timings.encoderMs;
        sum.estimator += r.timings.estimatorMs.reduce((a, b) => a + b, 0);
        sum.vocoder += r.timings.vocoderMs;
        sum.total += r.timings.totalMs;
      }
      const perStep = sum.estimator / (steps * SENTENCES.length);
      console.log(
        [steps, label, sum.audio.toFixed(2), sum.front.toFixed(1), sum.encoder.toFixed(1), sum.estimator.toFixed(1), perStep.toFixed(1), sum.vocoder.toFixed(1), sum.total.toFixed(1), (sum.total / 1000 / sum.audio).toFixed(3)].join('\t'),
      );
    }
  }
} finally {
  await engine.close();
}
