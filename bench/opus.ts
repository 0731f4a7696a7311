/**
 * Opus encoder benchmark: the libopus bindings installed in this project,
 * encoding the same 60 s speech-like signal at 48 kHz mono, 20 ms frames,
 * application VOIP, 32 kbps.
 *
 *   npx tsx bench/opus.ts [seconds=60] [rounds=3]
 *
 * Prints the best of `rounds` runs per binding (best, not mean, because the
 * machine is shared and noise only ever adds time).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { createOpusEncoder } from '../src/stream/opus.js';

const require = createRequire(import.meta.url);

const RATE = 48_000;
const FRAME = 960;
const BITRATE = 32_000;
const VOIP = 2048;
const OPUS_SET_BITRATE = 4002;

interface FrameEncoder {
  encode(frame: Int16Array): Uint8Array;
}

interface Candidate {
  name: string;
  install: string;
  create(): FrameEncoder;
}

// Each binding is loaded lazily so a binding that fails to load is reported, not fatal.
const candidates: Candidate[] = [
  {
    name: '@discordjs/opus (native)',
    install: 'node-pre-gyp: prebuilt download from GitHub, else node-gyp build (python3, C compiler, node headers)',
    create() {
      // An optional dependency: its native build may be absent, so no compile-time import.
      const { OpusEncoder } = require('@discordjs/opus') as {
        OpusEncoder: new (rate: number, channels: number) => {
          applyEncoderCTL(ctl: number, value: number): void;
          setBitrate(bitrate: number): void;
          encode(buf: Buffer): Buffer;
        };
      };
      const enc = new OpusEncoder(RATE, 1);
      // The binding hard-codes APPLICATION_AUDIO; libopus allows changing it before the first frame.
      enc.applyEncoderCTL(4000, VOIP);
      enc.setBitrate(BITRATE);
      return { encode: (f) => enc.encode(Buffer.from(f.buffer, f.byteOffset, f.byteLength)) };
    },
  },
  {
    name: '@evan/opus (native, prebuilt)',
    install: 'prebuilt .node in the tarball (linux x64/arm64 glibc, macOS, win x64); no install script',
    create: () => evanEncoder(require('@evan/opus/node/index.js')),
  },
  {
    name: '@evan/opus (wasm)',
    install: 'wasm in the tarball; no install script',
    create: () => evanEncoder(require('@evan/opus/wasm/index.js')),
  },
  {
    name: 'opusscript (wasm)',
    install: 'wasm in the tarball; no install script',
    create: () => opusscriptEncoder(true),
  },
  {
    name: 'opusscript (asm.js)',
    install: 'asm.js in the tarball; no install script',
    create: () => opusscriptEncoder(false),
  },
  {
    name: 'src/stream/opus.ts (float input)',
    install: '@evan/opus, native with automatic wasm fallback',
    create() {
      const enc = createOpusEncoder({ bitrate: BITRATE });
      return {
        encode(frame) {
          const float = new Float32Array(frame.length);
          for (let i = 0; i < frame.length; i++) float[i] = (frame[i] as number) / 32768;
          return enc.encode(float)[0] as Uint8Array;
        },
      };
    },
  },
];

interface EvanRaw {
  Encoder: new (o: { channels: number; sample_rate: number; application: string }) => {
    ctl(cmd: number, arg?: number): number;
    encode(buf: ArrayBufferView): Uint8Array;
  };
}

function evanEncoder(mod: EvanRaw): FrameEncoder {
  const enc = new mod.Encoder({ channels: 1, sample_rate: RATE, application: 'voip' });
  enc.ctl(OPUS_SET_BITRATE, BITRATE);
  return { encode: (f) => enc.encode(f) };
}

function opusscriptEncoder(wasm: boolean): FrameEncoder {
  const OpusScript = require('opusscript') as typeof import('opusscript');
  const enc = new OpusScript(RATE, 1, OpusScript.Application.VOIP, { wasm });
  enc.setBitrate(BITRATE);
  return { encode: (f) => enc.encode(Buffer.from(f.buffer, f.byteOffset, f.byteLength), FRAME) };
}

/**
 * A deterministic speech-like signal: a harmonic voice with a gliding pitch
 * (90–220 Hz) and 1/k spectral tilt, a syllabic envelope (~4 Hz) with pauses,
 * and noise bursts standing in for fricatives. Coding cost depends on content
 * (silence is cheap), so a sine or white noise would mislead.
 */
function speechLike(seconds: number): Int16Array {
  const n = Math.round(seconds * RATE);
  const out = new Int16Array(n);
  let seed = 0x9e3779b9;
  const noise = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 155 + 65 * Math.sin(2 * Math.PI * 0.37 * t) * Math.sin(2 * Math.PI * 0.11 * t);
    phase += (2 * Math.PI * f0) / RATE;
    let voiced = 0;
    for (let k = 1; k * f0 < 4000; k++) voiced += Math.sin(k * phase) / k;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 3.7 * t));
    const inPause = Math.sin(2 * Math.PI * 0.21 * t) > 0.8;
    const fricative = Math.sin(2 * Math.PI * 1.3 * t) > 0.9 ? noise() * 0.3 : 0;
    const v = inPause ? noise() * 0.002 : 0.25 * Math.sqrt(syllable) * voiced + fricative;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v * 12000)));
  }
  return out;
}

function run(): void {
  const seconds = Number(process.argv[2] ?? 60);
  const rounds = Number(process.argv[3] ?? 3);
  const pcm = speechLike(seconds);
  const frames = Math.floor(pcm.length / FRAME);
  const frameMs = (FRAME / RATE) * 1000;
  console.log(`${seconds} s speech-like, 48 kHz mono, ${frames} frames of 20 ms, VOIP, ${BITRATE / 1000} kbps, best of ${rounds}`);
  console.log(`node ${process.version}, ${process.platform}-${process.arch}\n`);
  const rows: Record<string, string | number>[] = [];
  for (const c of candidates) {
    let encoder: FrameEncoder;
    const t0 = performance.now();
    try {
      encoder = c.create();
    } catch (err) {
      rows.push({ binding: c.name, 'µs/frame': 'load failed', note: String(err).slice(0, 60) });
      continue;
    }
    const loadMs = performance.now() - t0;
    let best = Infinity;
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      bytes = 0;
      const start = performance.now();
      for (let f = 0; f < frames; f++) bytes += encoder.encode(pcm.subarray(f * FRAME, (f + 1) * FRAME)).length;
      best = Math.min(best, performance.now() - start);
    }
    const usPerFrame = (best * 1000) / frames;
    rows.push({
      binding: c.name,
      'load ms': loadMs.toFixed(1),
      'µs/frame': usPerFrame.toFixed(1),
      '× real time': Math.round((frameMs * 1000) / usPerFrame),
      'kbps out': ((bytes * 8) / seconds / 1000).toFixed(1),
      install: c.install,
    });
  }
  console.table(rows);
}

run();
