// A session's audio on its way to the socket: each phrase at the encoder's rate,
// padded to whole 20 ms frames, cut into `audio` messages (a frame each when paced
// in real time, chunkMs otherwise), paced, held back while the outbox is over its
// high-water mark (backpressure), encoded, and numbered by packet.
import { Subject, concatMap, from, map, type Subscription } from 'rxjs';
import { FRAME_MS, OUTPUT_SAMPLE_RATE } from '../../protocol/index.js';
import { pacePackets } from '../../stream/pacing.js';
import type { Outbox } from '../outbox.js';
import type { WireEncoder } from '../wire-encoder.js';

/** One `audio` message's worth of a phrase, at the encoder's rate; `sent` runs once it is on the socket. */
interface WireChunk {
  phrase: number;
  pcm: Float32Array;
  sent?: () => void;
}

export class AudioWire {
  private seq = 0;
  private chunks = new Subject<WireChunk>();
  private subscription: Subscription | undefined;
  /** Samples of one `audio` message. */
  private readonly chunkSamples: number;

  constructor(
    private readonly outbox: Outbox,
    private readonly encoder: WireEncoder,
    private readonly realtime: boolean,
    chunkMs: number,
    /** Called after each `audio` message with its packets, its length on the session timeline (48 kHz samples) and the time its encoding took. */
    private readonly sent: (message: { phrase: number; packets: number; samples: number; encodeMs: number }) => void,
  ) {
    // Real time goes out frame by frame; otherwise in chunks, fewer messages for the same audio.
    this.chunkSamples = realtime ? encoder.frameSamples : (chunkMs * encoder.pcmRate) / 1000;
  }

  /** The rate phrases must be rendered at for this wire. */
  get pcmRate(): number {
    return this.encoder.pcmRate;
  }

  /** 48 kHz samples (the session timeline's unit) per sample of the encoder's input. */
  get scale(): number {
    return OUTPUT_SAMPLE_RATE / this.encoder.pcmRate;
  }

  /** A phrase's PCM at `pcmRate` as it goes on the wire: padded with silence to whole frames. */
  frames(pcm: Float32Array): Float32Array {
    const { frameSamples } = this.encoder;
    if (pcm.length % frameSamples === 0) return pcm;
    const frames = new Float32Array(Math.ceil(pcm.length / frameSamples) * frameSamples);
    frames.set(pcm);
    return frames;
  }

  /**
   * A fresh pacer, for a new run: real-time pacing follows the session timeline across
   * the phrases of a run. What the previous one still held is dropped.
   */
  restart(): void {
    this.stop();
    this.chunks = new Subject<WireChunk>();
    this.subscription = this.chunks
      .pipe(
        pacePackets({ realtime: this.realtime, packetMs: FRAME_MS }),
        concatMap((chunk) => from(this.outbox.whenWritable()).pipe(map(() => chunk))),
      )
      .subscribe((chunk) => {
        this.send(chunk.phrase, chunk.pcm);
        chunk.sent?.();
      });
  }

  /** Queues a phrase's frames; `done` runs once the last of them is on the socket (at once for none). */
  queue(phrase: number, frames: Float32Array, done: () => void): void {
    if (frames.length === 0) return done();
    for (let offset = 0; offset < frames.length; offset += this.chunkSamples) {
      const last = offset + this.chunkSamples >= frames.length;
      this.chunks.next({ phrase, pcm: frames.subarray(offset, offset + this.chunkSamples), ...(last ? { sent: done } : {}) });
    }
  }

  /** Drops whatever is queued; nothing more goes out until restart(). */
  stop(): void {
    this.subscription?.unsubscribe();
  }

  /** The session is over: the encoder goes back to its pool. */
  release(): void {
    this.stop();
    this.encoder.release();
  }

  private send(phrase: number, pcm: Float32Array): void {
    const encoding = performance.now();
    const packets = this.encoder.encode(pcm);
    const encodeMs = performance.now() - encoding;
    this.outbox.send({ type: 'audio', phrase, seq: this.seq, packets });
    this.seq += packets.length;
    this.sent({ phrase, packets: packets.length, samples: pcm.length * this.scale, encodeMs });
  }
}
