/**
 * Opus encoding and decoding for the wire: mono, 20 ms frames, decoded at 48 kHz. The
 * encoder takes its input at any of Opus's rates: a voice at 22050 Hz is encoded from
 * 24 kHz, which keeps all of its band and costs half the resampling of 48 kHz.
 *
 * Binding: @evan/opus (libopus, MIT). Its npm tarball carries prebuilt native
 * addons (linux x64/arm64 glibc, macOS, Windows x64) and a wasm build, so it
 * installs anywhere without a compiler; the native addon is used when it loads
 * and the wasm build otherwise (see bench/opus.ts for the measured choice).
 * We load the two builds ourselves instead of through the package's entry
 * point so that callers can see, log and force which one runs.
 */
import { createRequire } from 'node:module';
import { floatToInt16 } from './pcm.js';
import { nextTurn, slices } from './next-turn.js';

/** The rate Opus decodes at, and the unit of its pre-skip and stream lengths (RFC 7845). */
export const OPUS_SAMPLE_RATE = 48_000;
/** 20 ms at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960;
/** The input rates libopus encodes from. */
export const OPUS_INPUT_RATES = [8000, 12_000, 16_000, 24_000, 48_000] as const;
export type OpusInputRate = (typeof OPUS_INPUT_RATES)[number];

/** The lowest Opus input rate that holds all of a `rate` signal's band (48 kHz above 24 kHz). */
export function opusInputRate(rate: number): OpusInputRate {
  return OPUS_INPUT_RATES.find((r) => r >= rate) ?? OPUS_SAMPLE_RATE;
}
export const DEFAULT_OPUS_BITRATE = 32_000;
/**
 * libopus's application hint, which steers its choice of coding mode. 'voip' favours SILK
 * (alone, or in hybrid with CELT) for speech up to about 55 kbit/s; 'audio' codes CELT
 * alone above about 23 kbit/s and SILK below. At the server's 32 kbit/s 'voip' costs
 * 10 ms of CPU per second of the voice's speech at complexity 9 and 7 ms at 5, 'audio'
 * 2.2 ms at 5, with the same recognised words (docs/benchmarks.md, "Opus: the coding mode").
 */
export type OpusApplication = 'voip' | 'audio';
export const OPUS_APPLICATIONS: readonly OpusApplication[] = ['voip', 'audio'];
export const DEFAULT_OPUS_APPLICATION: OpusApplication = 'audio';
/**
 * Encoder effort, 0–10. From 7 up libopus adds a signal analysis (speech or music,
 * tonality) that costs about 6 ms of CPU per second of audio, more than CELT's coding itself.
 */
export const DEFAULT_OPUS_COMPLEXITY = 5;

export type OpusBackend = 'native' | 'wasm';

export interface OpusEncoderOptions {
  /** Target bitrate in bits per second (500–512000; default 32000). */
  bitrate?: number;
  /**
   * Encoder effort, 0–10 (default 5): lower costs less CPU per frame for slightly worse
   * audio at the same bitrate (docs/benchmarks.md, What makes it fast).
   */
  complexity?: number;
  /** libopus's application hint (default 'audio'). */
  application?: OpusApplication;
  /** The rate of the PCM given to `encode` (default 48 kHz). */
  sampleRate?: OpusInputRate;
  /** Force a build; by default native, falling back to wasm when the addon fails to load. */
  backend?: OpusBackend;
}

export interface OpusEncoder {
  readonly backend: OpusBackend;
  readonly bitrate: number;
  /** The complexity libopus reports it runs at. */
  readonly complexity: number;
  /** The application libopus reports it runs with. */
  readonly application: OpusApplication;
  /** The rate of the PCM `encode` takes. */
  readonly sampleRate: OpusInputRate;
  /** Samples of one 20 ms frame at `sampleRate`. */
  readonly frameSamples: number;
  /**
   * Encoder lookahead in 48 kHz samples, whatever the input rate: the decoder's output
   * starts this many samples late, so it is the Ogg Opus pre-skip (RFC 7845 §4.2).
   */
  readonly preSkip: number;
  /**
   * 48 kHz samples of audio the packets so far carry: every encoded frame in
   * full, except the silence that padded the final frame of the latest
   * `encode()` call and the frames added by `flush()`. Give it to the Ogg
   * writer as the stream's length.
   */
  readonly sampleCount: number;
  /**
   * Encodes mono PCM at `sampleRate` (float in [-1, 1], or int16) into one packet per
   * 20 ms frame. The final partial frame is padded with silence, so each call
   * ends on a whole frame; encoder state carries over between calls, so
   * consecutive calls (phrases) join without a glitch.
   */
  encode(pcm: Float32Array | Int16Array): Uint8Array[];
  /**
   * Encodes the silent frames needed for a decoder to output every sample
   * given so far despite the encoder's lookahead (none when the last frame's
   * padding already covers it). Call at the end of a stream.
   */
  flush(): Uint8Array[];
  /**
   * Starts a new stream (libopus OPUS_RESET_STATE): what follows is encoded exactly
   * as by a new encoder of the same bitrate, without allocating one.
   */
  reset(): void;
}

export interface OpusDecoder {
  readonly backend: OpusBackend;
  /** Decodes one packet into 48 kHz mono int16 samples (960 for a 20 ms packet). */
  decode(packet: Uint8Array): Int16Array;
}

interface RawEncoder {
  ctl(cmd: number, arg?: number): number;
  encode(pcm: ArrayBufferView): Uint8Array;
}

interface RawDecoder {
  decode(packet: ArrayBufferView): Uint8Array;
}

interface RawOpusModule {
  Encoder: new (options: { channels: number; sample_rate: number; application: string }) => RawEncoder;
  Decoder: new (options: { channels: number; sample_rate: number }) => RawDecoder;
}

// libopus CTL request numbers (opus_defines.h).
const OPUS_GET_APPLICATION = 4001;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_GET_COMPLEXITY = 4011;
const OPUS_RESET_STATE = 4028;
const OPUS_GET_LOOKAHEAD = 4027;
const APPLICATION_CODES: Record<OpusApplication, number> = { voip: 2048, audio: 2049 };

const require = createRequire(import.meta.url);
const loaded = new Map<OpusBackend, RawOpusModule>();

function loadBackend(wanted: OpusBackend | undefined): { backend: OpusBackend; mod: RawOpusModule } {
  if (wanted !== 'wasm') {
    try {
      return { backend: 'native', mod: load('native') };
    } catch (err) {
      if (wanted === 'native') throw err;
    }
  }
  return { backend: 'wasm', mod: load('wasm') };
}

function load(backend: OpusBackend): RawOpusModule {
  let mod = loaded.get(backend);
  if (!mod) {
    mod = require(backend === 'native' ? '@evan/opus/node/index.js' : '@evan/opus/wasm/index.js') as RawOpusModule;
    loaded.set(backend, mod);
  }
  return mod;
}

export function createOpusEncoder(options: OpusEncoderOptions = {}): OpusEncoder {
  const bitrate = options.bitrate ?? DEFAULT_OPUS_BITRATE;
  if (!Number.isInteger(bitrate) || bitrate < 500 || bitrate > 512_000) {
    throw new RangeError(`Opus bitrate must be an integer from 500 to 512000 bit/s, got ${bitrate}`);
  }
  const complexity = options.complexity ?? DEFAULT_OPUS_COMPLEXITY;
  if (!Number.isInteger(complexity) || complexity < 0 || complexity > 10) {
    throw new RangeError(`Opus complexity must be an integer from 0 to 10, got ${complexity}`);
  }
  const application = options.application ?? DEFAULT_OPUS_APPLICATION;
  if (!OPUS_APPLICATIONS.includes(application)) throw new RangeError(`Opus application must be one of ${OPUS_APPLICATIONS.join(', ')}, got ${String(application)}`);
  const sampleRate = options.sampleRate ?? OPUS_SAMPLE_RATE;
  if (!OPUS_INPUT_RATES.includes(sampleRate)) throw new RangeError(`Opus encodes from ${OPUS_INPUT_RATES.join(', ')} Hz, not ${String(sampleRate)}`);
  const { backend, mod } = loadBackend(options.backend);
  const raw = new mod.Encoder({ channels: 1, sample_rate: sampleRate, application });
  raw.ctl(OPUS_SET_BITRATE, bitrate);
  raw.ctl(OPUS_SET_COMPLEXITY, complexity);
  /** 48 kHz samples per input sample. */
  const scale = OPUS_SAMPLE_RATE / sampleRate;
  const frameSamples = OPUS_FRAME_SAMPLES / scale;
  // libopus reports its lookahead in input samples; Ogg and decoders count 48 kHz ones.
  const preSkip = raw.ctl(OPUS_GET_LOOKAHEAD) * scale;
  const lastFrame = new Int16Array(frameSamples);
  let frames = 0;
  /** Input samples of silence that padded the last frame. */
  let trailingPadding = 0;

  const encodeFrames = (pcm: Int16Array): Uint8Array[] => {
    const packets: Uint8Array[] = [];
    const whole = pcm.length - (pcm.length % frameSamples);
    for (let i = 0; i < whole; i += frameSamples) {
      packets.push(raw.encode(pcm.subarray(i, i + frameSamples)));
    }
    const rest = pcm.length - whole;
    if (rest > 0) {
      lastFrame.fill(0);
      lastFrame.set(pcm.subarray(whole));
      packets.push(raw.encode(lastFrame));
    }
    frames += packets.length;
    trailingPadding = rest > 0 ? frameSamples - rest : 0;
    return packets;
  };
  /** Input samples the packets carry, padding of the last frame excepted. */
  const carried = (): number => frames * frameSamples - trailingPadding;

  return {
    backend,
    bitrate,
    complexity: raw.ctl(OPUS_GET_COMPLEXITY),
    application: applicationOf(raw.ctl(OPUS_GET_APPLICATION)),
    sampleRate,
    frameSamples,
    preSkip,
    get sampleCount() {
      return carried() * scale;
    },
    encode(pcm) {
      return encodeFrames(pcm instanceof Float32Array ? floatToInt16(pcm) : pcm);
    },
    flush() {
      const content = carried();
      const needed = Math.ceil((preSkip / scale + content) / frameSamples) - frames;
      if (needed <= 0) return [];
      const packets = encodeFrames(new Int16Array(needed * frameSamples));
      // Flush frames are not content: keep counting the audio as ending where it did.
      trailingPadding = frames * frameSamples - content;
      return packets;
    },
    reset() {
      raw.ctl(OPUS_RESET_STATE);
      frames = 0;
      trailingPadding = 0;
    },
  };
}

function applicationOf(code: number): OpusApplication {
  const found = OPUS_APPLICATIONS.find((name) => APPLICATION_CODES[name] === code);
  if (!found) throw new Error(`libopus reports application ${code}, which this server does not ask for`);
  return found;
}

/**
 * `encoder.encode(pcm)` in slices of 100 ms with the event loop let in between: Opus
 * costs up to 10 ms of CPU per second of audio, which a whole file would spend in one go.
 * Slices are whole frames, so the packets are those of one call.
 */
export async function encodeInTurns(encoder: OpusEncoder, pcm: Float32Array): Promise<Uint8Array[]> {
  const packets: Uint8Array[] = [];
  for (const slice of slices(pcm, encoder.frameSamples * 5)) {
    if (packets.length > 0) await nextTurn();
    packets.push(...encoder.encode(slice));
  }
  return packets;
}

/**
 * Encoders of one setting, reused stream after stream. A native encoder holds some
 * 46 KB outside the JS heap, which V8 does not count and frees only in a full
 * collection: a new encoder per stream let a server's resident memory climb by
 * tens of megabytes per thousand short sessions between collections.
 */
export class OpusEncoderPool {
  private readonly idle = new Map<OpusInputRate, OpusEncoder[]>();

  constructor(private readonly options: Pick<OpusEncoderOptions, 'bitrate' | 'complexity' | 'application'>) {}

  /** An encoder whose input is at `sampleRate` (default 48 kHz). */
  take(sampleRate: OpusInputRate = OPUS_SAMPLE_RATE): OpusEncoder {
    return this.idle.get(sampleRate)?.pop() ?? createOpusEncoder({ ...this.options, sampleRate });
  }

  /** Returns an encoder for another stream; the caller must not use it again. */
  give(encoder: OpusEncoder): void {
    encoder.reset();
    let idle = this.idle.get(encoder.sampleRate);
    if (!idle) this.idle.set(encoder.sampleRate, (idle = []));
    idle.push(encoder);
  }
}

// Frame length at 48 kHz by TOC configuration number (RFC 6716 §3.1): SILK modes
// 0–11 run 10/20/40/60 ms, hybrid 12–15 run 10/20 ms, CELT 16–31 run 2.5/5/10/20 ms.
const SILK_FRAMES = [480, 960, 1920, 2880];
const HYBRID_FRAMES = [480, 960];
const CELT_FRAMES = [120, 240, 480, 960];

/** Samples (at 48 kHz) that one Opus packet decodes to, read from its TOC byte (RFC 6716 §3.1). */
export function opusPacketSamples(packet: Uint8Array): number {
  const toc = packet[0];
  if (toc === undefined) throw new RangeError('Empty Opus packet');
  const config = toc >> 3;
  const frame =
    config < 12
      ? (SILK_FRAMES[config & 3] as number)
      : config < 16
        ? (HYBRID_FRAMES[config & 1] as number)
        : (CELT_FRAMES[config & 3] as number);
  const code = toc & 3;
  if (code === 0) return frame;
  if (code !== 3) return 2 * frame;
  const count = packet[1];
  if (count === undefined) throw new RangeError('Opus packet with frame-count code 3 lacks its count byte');
  return frame * (count & 0x3f);
}

export function createOpusDecoder(options: { backend?: OpusBackend } = {}): OpusDecoder {
  const { backend, mod } = loadBackend(options.backend);
  const raw = new mod.Decoder({ channels: 1, sample_rate: OPUS_SAMPLE_RATE });
  return {
    backend,
    decode(packet) {
      // Both builds return a fresh copy starting at offset 0, so the view is aligned and not shared.
      const bytes = raw.decode(packet);
      return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    },
  };
}
