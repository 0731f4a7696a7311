/**
 * MP3 encoding: LAME compiled to wasm by wasm-media-encoders (MIT; LAME itself
 * is LGPL, used unmodified). Chosen by measurement among the LAME builds on npm
 * (docs/benchmarks.md): about 5x faster than the pure-JS lamejs port, and
 * synchronous, so a phrase is encoded where it is produced.
 *
 * Instantiating the wasm module decodes and compiles some 900 KB each time
 * (13 ms under load), so encoders are pooled: `configure` starts a new stream
 * on an existing instance.
 */
import { createMp3Encoder, type WasmMediaEncoder } from 'wasm-media-encoders';

/** Sample rates LAME encodes (MPEG-1, 2 and 2.5 layer III). */
export const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export type Mp3SampleRate = (typeof MP3_SAMPLE_RATES)[number];

export interface Mp3Stream {
  /** Encodes mono float PCM; returns the MP3 frames completed so far (often none for a short input). */
  encode(pcm: Float32Array): Uint8Array;
  /** Flushes the last frames; the stream is over and its encoder goes back to the pool. */
  finish(): Uint8Array;
  /** Abandons the stream; its encoder goes back to the pool. */
  discard(): void;
}

type Encoder = WasmMediaEncoder<'audio/mpeg'>;

export class Mp3EncoderPool {
  private readonly idle: Encoder[] = [];

  /** At most `keep` idle encoders are held (each holds a few MB of wasm memory). */
  constructor(private readonly keep = 4) {}

  async open(sampleRate: Mp3SampleRate, kbps: 32 | 48 | 64 | 96 | 128): Promise<Mp3Stream> {
    const encoder = this.idle.pop() ?? (await createMp3Encoder());
    encoder.configure({ channels: 1, sampleRate, bitrate: kbps });
    let open = true;
    const release = (): void => {
      if (!open) return;
      open = false;
      if (this.idle.length < this.keep) this.idle.push(encoder);
    };
    return {
      // The encoder returns a view of its wasm memory, overwritten by the next call: copy it out.
      encode: (pcm) => (pcm.length === 0 ? new Uint8Array(0) : encoder.encode([pcm]).slice()),
      finish: () => {
        const tail = encoder.finalize().slice();
        release();
        return tail;
      },
      discard: release,
    };
  }
}
