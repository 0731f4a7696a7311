// Plays a session's audio as it arrives. Opus packets are decoded with
// WebCodecs' AudioDecoder; where WebCodecs is missing (an old browser, or a
// page not served from localhost or https) the session asks for pcm16 instead.
// Buffers are scheduled back to back on the AudioContext clock, a small jitter
// margin ahead of it, and a map from that clock to the session timeline tells
// which moment of the speech is being heard.

const RATE = 48000;
const OPUS = { codec: 'opus', sampleRate: RATE, numberOfChannels: 1 };
/** Scheduling margin after the buffer ran dry: absorbs network and decoder jitter. */
const JITTER_S = 0.08;

/** @returns {Promise<boolean>} */
export async function opusSupported() {
  if (typeof AudioDecoder === 'undefined') return false;
  try {
    return (await AudioDecoder.isConfigSupported(OPUS)).supported === true;
  } catch {
    return false;
  }
}

/** Little-endian 16-bit PCM bytes → float samples. @param {Uint8Array} bytes */
function pcm16ToFloat(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

export class Player {
  constructor() {
    /** @type {AudioContext | undefined} */
    this.ctx = undefined;
    /** @type {AudioDecoder | undefined} */
    this.decoder = undefined;
    this.format = 'opus';
    this.preSkip = 0;
    this.frameSamples = 960;
    /** Where each phrase's next packet goes on the session timeline, in samples. @type {Map<number, number>} */
    this.cursors = new Map();
    /** Scheduled buffers: context time `at` plays session sample `pos`, for `n` samples. @type {{ at: number, pos: number, n: number }[]} */
    this.segments = [];
    /** @type {Set<AudioBufferSourceNode>} */
    this.sources = new Set();
    this.playhead = 0;
    /** @type {number | null} */
    this.lastHeardMs = null;
    this.stats = { decodedFrames: 0, scheduledMs: 0, gaps: 0 };
    /** @type {(error: Error) => void} */
    this.onerror = () => {};
  }

  /** Call from a user gesture: browsers start audio only then. */
  async unlock() {
    this.ctx ??= new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' });
    if (this.ctx.state !== 'running') await this.ctx.resume();
  }

  /**
   * Starts a session's stream.
   * @param {{ format: 'opus' | 'pcm16', preSkip?: number, frameMs: number }} ready
   */
  begin(ready) {
    this.stop();
    this.format = ready.format;
    this.preSkip = ready.preSkip ?? 0;
    this.frameSamples = (ready.frameMs * RATE) / 1000;
    this.cursors.clear();
    this.lastHeardMs = null;
    this.stats = { decodedFrames: 0, scheduledMs: 0, gaps: 0 };
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = this.format === 'opus' ? this.openDecoder() : undefined;
  }

  /** @param {{ id: number, startMs: number }} phrase */
  phrase(phrase) {
    this.cursors.set(phrase.id, Math.round((phrase.startMs * RATE) / 1000));
  }

  /** @param {{ phrase: number, packets: Uint8Array[] }} message */
  audio(message) {
    let pos = this.cursors.get(message.phrase) ?? 0;
    for (const packet of message.packets) {
      if (this.decoder) {
        // The timestamp carries the packet's place on the session timeline through the decoder.
        this.decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: (pos * 1e6) / RATE, data: packet }));
        pos += this.frameSamples;
      } else {
        const samples = pcm16ToFloat(packet);
        this.schedule(samples, pos);
        pos += samples.length;
      }
    }
    this.cursors.set(message.phrase, pos);
  }

  /** Barge-in: silence now, and forget everything queued. */
  stop() {
    for (const source of this.sources) source.stop();
    this.sources.clear();
    this.segments = [];
    this.playhead = 0;
    if (this.decoder && this.decoder.state !== 'closed') {
      this.decoder.reset();
      this.decoder.configure(OPUS);
    }
  }

  /** Seconds of audio scheduled and not yet played. */
  get bufferedS() {
    return this.ctx ? Math.max(0, this.playhead - this.ctx.currentTime) : 0;
  }

  get playing() {
    return this.bufferedS > 0;
  }

  /**
   * The session time (ms) being heard now; between buffers, where the last one
   * ended; null before anything played.
   * @returns {number | null}
   */
  heardMs() {
    const ctx = this.ctx;
    if (!ctx) return null;
    const now = ctx.currentTime - (ctx.outputLatency || 0);
    while (this.segments.length > 1 && this.segments[1].at <= now) this.segments.shift();
    const seg = this.segments[0];
    if (seg && seg.at <= now) {
      const offset = Math.min(seg.n, (now - seg.at) * RATE);
      this.lastHeardMs = ((seg.pos + offset) * 1000) / RATE;
    }
    return this.lastHeardMs;
  }

  openDecoder() {
    const decoder = new AudioDecoder({
      output: (data) => this.decoded(data),
      error: (error) => this.onerror(error),
    });
    decoder.configure(OPUS);
    return decoder;
  }

  /** @param {AudioData} data */
  decoded(data) {
    const n = data.numberOfFrames;
    const samples = new Float32Array(n);
    data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
    // Decoded audio lags the encoder's input by its lookahead, the pre-skip; the very first
    // pre-skip samples of a stream are that lookahead and are dropped (RFC 7845 §4.2).
    const pos = Math.round((data.timestamp * RATE) / 1e6) - this.preSkip;
    data.close();
    this.stats.decodedFrames++;
    const drop = Math.max(0, -pos);
    if (drop < n) this.schedule(samples.subarray(drop), pos + drop);
  }

  /**
   * @param {Float32Array<ArrayBuffer>} samples
   * @param {number} pos session time of the first sample, in samples
   */
  schedule(samples, pos) {
    const ctx = /** @type {AudioContext} */ (this.ctx);
    const buffer = ctx.createBuffer(1, samples.length, RATE);
    buffer.copyToChannel(samples, 0);
    const now = ctx.currentTime;
    if (this.playhead < now + 0.005) {
      if (this.playhead > 0) this.stats.gaps++;
      this.playhead = now + JITTER_S;
    }
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(ctx.destination);
    source.onended = () => this.sources.delete(source);
    source.start(this.playhead);
    this.sources.add(source);
    this.segments.push({ at: this.playhead, pos, n: samples.length });
    this.playhead += samples.length / RATE;
    this.stats.scheduledMs += (samples.length * 1000) / RATE;
  }
}
