// WAV bytes → mono float samples. mediabunny (already a dependency for the stream
// side) parses the RIFF chunks and decodes PCM 8/16/24/32-bit and float formats.
import { AudioSampleSink, BufferSource, Input, WAVE } from 'mediabunny';
import { SynthesisError } from './errors.js';

export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: number;
}

/** Decodes a WAV file and averages its channels into one. */
export async function decodeWavMono(bytes: Uint8Array): Promise<DecodedAudio> {
  const input = new Input({ source: new BufferSource(bytes), formats: [WAVE] });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track) throw new SynthesisError('WAV_INVALID', 'the WAV file holds no audio track');
    const channels = track.numberOfChannels;
    const chunks: Float32Array[] = [];
    let scratch = new Float32Array(0);
    for await (const sample of new AudioSampleSink(track).samples()) {
      try {
        const n = sample.numberOfFrames;
        const mono = new Float32Array(n);
        if (scratch.length < n) scratch = new Float32Array(n);
        for (let c = 0; c < channels; c++) {
          sample.copyTo(scratch, { planeIndex: c, format: 'f32-planar', frameCount: n });
          for (let i = 0; i < n; i++) mono[i]! += scratch[i]! / channels;
        }
        chunks.push(mono);
      } finally {
        sample.close();
      }
    }
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (total === 0) throw new SynthesisError('WAV_INVALID', 'the WAV file holds no samples');
    const samples = new Float32Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      samples.set(chunk, offset);
      offset += chunk.length;
    }
    return { samples, sampleRate: track.sampleRate };
  } catch (err) {
    if (err instanceof SynthesisError) throw err;
    // The decoder's own message describes its internals; the cause keeps it for the log.
    throw new SynthesisError('WAV_INVALID', 'the bytes are not a WAV file that can be decoded (RIFF WAVE, PCM 8/16/24/32-bit or float)', { cause: err });
  } finally {
    input.dispose();
  }
}
