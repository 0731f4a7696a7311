// A voice for server tests without inference: each word is 4,000 samples of a tone at
// 48 kHz, a phrase with "explode" in it fails, one with "slowly" waits until the test
// releases it.
import { checkedMix, emotionCourse, SynthesisError, type SynthesisRequest } from '../src/pipeline/synthesis/index.js';
import type { PhraseSynthesis, ServedVoice, VoiceEngine } from '../src/server/voices.js';

export const SAMPLES_PER_WORD = 4000;

/** A voice whose audio is a 4,000-sample tone per word, with word timings to match. */
export class FakeEngine implements VoiceEngine {
  readonly texts: string[] = [];
  readonly requests: SynthesisRequest[] = [];
  /** Resolves phrases with "slowly" in them, when the test calls it. */
  private slow: (() => void)[] = [];

  async synthesize(text: string, request: SynthesisRequest): Promise<PhraseSynthesis> {
    this.texts.push(text);
    this.requests.push(request);
    if (text.includes('explode')) throw new SynthesisError('INFERENCE_FAILED', 'estimator.onnx: the tensor at /tmp/x had NaN');
    if (text.includes('slowly')) {
      await new Promise<void>((resolve, reject) => {
        this.slow.push(resolve);
        request.signal?.addEventListener('abort', () => reject(new SynthesisError('INFERENCE_FAILED', 'aborted')));
      });
    }
    const words = text.match(/[A-Za-z']+/g) ?? [];
    if (words.length === 0) throw new SynthesisError('TEXT_EMPTY', 'nothing to pronounce');
    const msPerWord = (SAMPLES_PER_WORD * 1000) / 48_000;
    const audio = new Float32Array(words.length * SAMPLES_PER_WORD).fill(0.25);
    const changes = request.changes ?? [];
    return {
      audio,
      words: words.map((word, k) => ({ word, startMs: k * msPerWord, endMs: (k + 1) * msPerWord })),
      emotion: {
        course: emotionCourse(
          { from: checkedMix(request.weights), ...(request.ramp ? { ramp: { ...request.ramp, to: checkedMix(request.ramp.to) } } : {}) },
          changes.map((c) => ({ ...c, to: checkedMix(c.to) })),
          changes.map((c) => c.word * msPerWord),
          100,
        ),
      },
      timings: { totalMs: 5 },
    };
  }

  async embedReference(clip: Uint8Array): Promise<Float32Array> {
    if (clip.length < 4) throw new SynthesisError('WAV_INVALID', 'the clip is too short');
    return new Float32Array(8);
  }

  /** Lets the slow phrases finish. */
  release(): void {
    for (const resolve of this.slow.splice(0)) resolve();
  }

  get waiting(): number {
    return this.slow.length;
  }
}

export function fakeVoice(engine: VoiceEngine): ServedVoice {
  return {
    info: {
      id: 'fake',
      name: 'Fake',
      description: '',
      license: 'MIT',
      emotions: ['neutral', 'happy', 'sad'],
      speakers: [
        { id: 'ann', name: 'Ann', emotions: ['neutral'] },
        { id: 'bob', name: 'Bob', emotions: ['neutral'] },
      ],
      neutral: 'neutral',
      sampleRate: 48_000,
      steps: 4,
      temperature: 1,
      default: true,
    },
    engine,
  };
}
