// Real-time factor of each stage of one phrase, measured in process: the engine's own
// timings (front end, encoder, frame decoder, each estimator call, vocoder, and its
// conversion to the Opus encoder's input rate in the worker, as the server asks for it),
// then Opus on the result. RTF = time / audio duration.
import { Engine, type SynthesisResult } from '../src/pipeline/synthesis/index.js';
import { createOpusEncoder, opusInputRate, type OpusInputRate } from '../src/stream/opus.js';

export interface StageRow {
  steps: number;
  emotions: number;
  audioSeconds: number;
  /** RTF of each stage, summed over the sentences. */
  frontend: number;
  encoder: number;
  decoder: number;
  /** One estimator call (all emotion rows of one step). */
  estimatorCall: number;
  /** All steps. */
  estimator: number;
  vocoder: number;
  resample: number;
  opus: number;
  /** Engine total plus resampling and Opus: text in, packets out. */
  endToEnd: number;
}

export interface StageOptions {
  voiceDir: string;
  device: 'cpu' | 'cuda';
  sentences: string[];
  steps: number[];
  /** Mixes of 1, 2, 3… emotions. */
  mixes: Record<string, number>[];
  /** Best of this many runs per sentence (noise on a shared machine only ever adds time). */
  rounds: number;
}

interface Timed {
  result: SynthesisResult;
  opusMs: number;
  totalMs: number;
}

function deliver(result: SynthesisResult, sampleRate: OpusInputRate): Timed {
  const mark = performance.now();
  createOpusEncoder({ sampleRate }).encode(result.audio);
  const opusMs = performance.now() - mark;
  return { result, opusMs, totalMs: result.timings.totalMs + opusMs };
}

export async function measureStages(options: StageOptions): Promise<{ device: string; rows: StageRow[] }> {
  // No phrase cache: every round must do the work of a phrase never heard before.
  const engine = await Engine.create({ voiceDir: options.voiceDir, device: options.device, cacheEntries: 0 });
  // At the Opus encoder's rate, as a session asks for it (src/server/wire-encoder.ts).
  const sampleRate = opusInputRate(engine.voice.audio.sampleRate);
  try {
    deliver(await engine.synthesize(options.sentences[0]!, { weights: options.mixes[0]!, steps: 2, seed: 0, sampleRate }), sampleRate);
    const rows: StageRow[] = [];
    for (const steps of options.steps) {
      for (const weights of options.mixes) {
        const sum = { audio: 0, frontend: 0, encoder: 0, decoder: 0, estimator: 0, calls: 0, vocoder: 0, resample: 0, opus: 0, total: 0 };
        for (const text of options.sentences) {
          let best: Timed | undefined;
          for (let r = 0; r < options.rounds; r++) {
            const timed = deliver(await engine.synthesize(text, { weights, steps, seed: 1 + r, sampleRate }), sampleRate);
            if (!best || timed.totalMs < best.totalMs) best = timed;
          }
          const t = best!.result.timings;
          sum.audio += best!.result.durationMs / 1000;
          sum.frontend += t.frontendMs;
          sum.encoder += t.encoderMs;
          sum.decoder += t.decoderMs;
          sum.estimator += t.estimatorMs.reduce((a, b) => a + b, 0);
          sum.calls += t.estimatorMs.length;
          sum.vocoder += t.vocoderMs;
          sum.resample += t.resampleMs;
          sum.opus += best!.opusMs;
          sum.total += best!.totalMs;
        }
        const rtf = (ms: number) => ms / 1000 / sum.audio;
        rows.push({
          steps,
          emotions: Object.keys(weights).length,
          audioSeconds: sum.audio,
          frontend: rtf(sum.frontend),
          encoder: rtf(sum.encoder),
          decoder: rtf(sum.decoder),
          estimatorCall: rtf(sum.estimator / (sum.calls / options.sentences.length)),
          estimator: rtf(sum.estimator),
          vocoder: rtf(sum.vocoder),
          resample: rtf(sum.resample),
          opus: rtf(sum.opus),
          endToEnd: rtf(sum.total),
        });
      }
    }
    return { device: engine.device, rows };
  } finally {
    await engine.close();
  }
}
