import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createOpusDecoder,
  createOpusEncoder,
  encodeInTurns,
  OPUS_FRAME_SAMPLES,
  OpusEncoderPool,
  opusInputRate,
  opusPacketSamples,
  type OpusBackend,
} from '../src/stream/opus.js';

function sine(freq: number, length: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / 48000));
}

/** A chirp under a slow tremolo, one second at `rate`: not periodic, so the best-matching delay is unambiguous. */
function chirp(rate: number): Float32Array {
  return Float32Array.from({ length: rate }, (_, i) => {
    const t = i / rate;
    return 0.4 * Math.sin(2 * Math.PI * (200 * t + 300 * t * t)) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t));
  });
}

/** One second of two tones at 48 kHz. */
const TWO_TONES = Float32Array.from(sine(220, 48000), (v, i) => v + 0.3 * Math.sin((2 * Math.PI * 1330 * i) / 48000));

/** Correlation of a decoded second, after the encoder's delay, with TWO_TONES. */
function correlationWithInput({ pcm, preSkip }: { pcm: Int16Array; preSkip: number }): number {
  expect(pcm.length).toBe(TWO_TONES.length);
  let xy = 0, xx = 0, yy = 0;
  for (let i = 4800; i < TWO_TONES.length - preSkip; i++) {
    const x = TWO_TONES[i]!, y = pcm[i + preSkip]! / 32768;
    xy += x * y; xx += x * x; yy += y * y;
  }
  return xy / Math.sqrt(xx * yy);
}

function decodeAll(packets: Uint8Array[], backend?: OpusBackend): Int16Array {
  const decoder = createOpusDecoder({ backend });
  const frames = packets.map((p) => decoder.decode(p));
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of frames) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}

describe.each(['native', 'wasm'] as const)('Opus (%s build)', (backend) => {
  it('encodes 20 ms packets that decode to 960 samples each', () => {
    const encoder = createOpusEncoder({ backend });
    expect(encoder.backend).toBe(backend);
    expect(encoder.bitrate).toBe(32000);
    expect(encoder.preSkip).toBe(312);
    const packets = encoder.encode(sine(440, 48000));
    expect(packets).toHaveLength(50);
    expect(packets.every((p) => opusPacketSamples(p) === OPUS_FRAME_SAMPLES)).toBe(true);
    const decoded = decodeAll(packets, backend);
    expect(decoded.length).toBe(48000);
    expect(encoder.sampleCount).toBe(48000);
  });

  it('pads the final partial frame with silence and counts only real samples', () => {
    const encoder = createOpusEncoder({ backend });
    expect(encoder.encode(sine(440, 1000))).toHaveLength(2);
    expect(encoder.sampleCount).toBe(1000);
    expect(encoder.encode(sine(440, 500))).toHaveLength(1);
    // The first call's padding is now part of the stream, the second's is not.
    expect(encoder.sampleCount).toBe(1920 + 500);
    expect(encoder.encode(new Float32Array(0))).toHaveLength(0);
  });

  it('reproduces the signal, delayed by about the pre-skip', () => {
    const input = chirp(48000);
    const encoder = createOpusEncoder({ backend });
    const decoded = decodeAll([...encoder.encode(input), ...encoder.flush()], backend);
    expect(decoded.length).toBeGreaterThanOrEqual(input.length + encoder.preSkip);
    const snrAt = (lag: number) => {
      let signal = 0;
      let error = 0;
      for (let i = 4800; i < 43200; i++) {
        const x = (input[i] as number) * 32768;
        signal += x * x;
        error += (x - (decoded[i + lag] as number)) ** 2;
      }
      return 10 * Math.log10(signal / error);
    };
    const snr = Array.from({ length: 700 }, (_, lag) => snrAt(lag));
    const best = snr.indexOf(Math.max(...snr));
    // The codec's path may run a few samples off the nominal 312-sample lookahead.
    expect(Math.abs(best - encoder.preSkip)).toBeLessThanOrEqual(4);
    expect(snr[best]).toBeGreaterThan(12);
  });

  it('encodes from 24 kHz: 20 ms frames of 480 samples, pre-skip and length in 48 kHz samples, the signal back at 48 kHz', () => {
    const encoder = createOpusEncoder({ backend, sampleRate: 24_000 });
    expect([encoder.sampleRate, encoder.frameSamples, encoder.preSkip]).toEqual([24_000, 480, 312]);
    const input = chirp(24_000);
    const packets = encoder.encode(input.subarray(0, 23_900));
    expect(packets).toHaveLength(50);
    expect(packets.every((p) => opusPacketSamples(p) === OPUS_FRAME_SAMPLES)).toBe(true);
    expect(encoder.sampleCount).toBe(2 * 23_900);
    packets.push(...encoder.flush());
    expect(encoder.sampleCount).toBe(2 * 23_900);
    const decoded = decodeAll(packets, backend);
    expect(decoded.length).toBe(packets.length * OPUS_FRAME_SAMPLES);
    // Every other decoded sample against the input, the pre-skip (48 kHz samples) later.
    let signal = 0;
    let error = 0;
    for (let i = 2400; i < 21_600; i++) {
      const x = input[i]! * 32768;
      signal += x * x;
      error += (x - decoded[2 * i + encoder.preSkip]!) ** 2;
    }
    expect(10 * Math.log10(signal / error)).toBeGreaterThan(12);
  });

  it('flushes just enough silence to push the lookahead out', () => {
    const whole = createOpusEncoder({ backend });
    whole.encode(new Float32Array(48000)); // 50 frames, no padding left to cover 312 samples of lookahead
    expect(whole.flush()).toHaveLength(1);
    expect(whole.flush()).toHaveLength(0);
    expect(whole.sampleCount).toBe(48000);

    const padded = createOpusEncoder({ backend });
    padded.encode(new Float32Array(1000)); // 920 samples of padding already cover it
    expect(padded.flush()).toHaveLength(0);

    const tight = createOpusEncoder({ backend });
    tight.encode(new Float32Array(960 + 700)); // 260 of padding: not enough
    expect(tight.flush()).toHaveLength(1);
    expect(tight.sampleCount).toBe(1660);
  });

  it('encodes int16 input exactly like the equivalent float input', () => {
    const ints = Int16Array.from({ length: 3000 }, (_, i) => Math.round(9000 * Math.sin(i / 9) + 3000 * Math.sin(i / 2.3)));
    const floats = Float32Array.from(ints, (v) => v / 32768);
    expect(createOpusEncoder({ backend }).encode(ints)).toEqual(createOpusEncoder({ backend }).encode(floats));
  });

  it('spends more bytes at a higher bitrate', () => {
    let seed = 1;
    const noise = Float32Array.from({ length: 48000 }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed / 2 ** 32 - 0.5) * 0.5;
    });
    const bytes = (bitrate: number) => createOpusEncoder({ backend, bitrate }).encode(noise).reduce((n, p) => n + p.length, 0);
    const low = bytes(16000);
    const high = bytes(64000);
    expect(low * 8).toBeLessThan(16000 * 1.3);
    expect(high).toBeGreaterThan(2.5 * low);
  });

  it('after reset() encodes a new stream exactly as a new encoder does, at the same bitrate', () => {
    const used = createOpusEncoder({ backend, bitrate: 24_000 });
    used.encode(sine(440, 4000));
    used.reset();
    expect(used.sampleCount).toBe(0);
    const input = sine(300, 9000);
    const fresh = createOpusEncoder({ backend, bitrate: 24_000 });
    expect([...used.encode(input), ...used.flush()]).toEqual([...fresh.encode(input), ...fresh.flush()]);
    expect(used.sampleCount).toBe(fresh.sampleCount);
  });

  it('runs at the complexity asked for (default 5); the cheapest still carries the signal', () => {
    expect(createOpusEncoder({ backend }).complexity).toBe(5);
    const decoded = (complexity: number) => {
      const encoder = createOpusEncoder({ backend, complexity });
      expect(encoder.complexity).toBe(complexity);
      const packets = encoder.encode(TWO_TONES);
      return { packets, pcm: decodeAll(packets, backend), preSkip: encoder.preSkip };
    };
    const cheap = decoded(0);
    const best = decoded(10);
    expect(cheap.packets).not.toEqual(best.packets);
    // 0.999 at complexity 0 and 0.991 at 10 when written (CELT codes two steady tones at
    // least effort as well as any); a broken or silent stream is near 0.
    expect(correlationWithInput(cheap)).toBeGreaterThan(0.85);
    expect(correlationWithInput(best)).toBeGreaterThan(0.85);
  });

  it("codes in the mode its application asks for: 'audio' CELT alone at 32 kbit/s (the default), 'voip' SILK with CELT", () => {
    // TOC configurations (RFC 6716 §3.1): 0–11 SILK, 12–15 hybrid, 16–31 CELT.
    const modes = (application?: 'voip' | 'audio') => {
      const encoder = createOpusEncoder({ backend, application });
      const packets = encoder.encode(TWO_TONES);
      expect(correlationWithInput({ pcm: decodeAll(packets, backend), preSkip: encoder.preSkip })).toBeGreaterThan(0.85);
      return { application: encoder.application, configs: new Set(packets.map((p) => p[0]! >> 3)) };
    };
    const audio = modes();
    expect(audio.application).toBe('audio');
    expect([...audio.configs].every((c) => c >= 16)).toBe(true);
    const voip = modes('voip');
    expect(voip.application).toBe('voip');
    expect([...voip.configs].every((c) => c < 16)).toBe(true);
  });
});

describe('Opus', () => {
  it('encodes a long input in turns of the event loop, to the packets of one call', async () => {
    const input = sine(300, 48000 * 3 + 500);
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const inTurns = await encodeInTurns(createOpusEncoder({ backend: 'wasm' }), input);
    running = false;
    expect(turns).toBeGreaterThanOrEqual(20); // a turn per 100 ms slice, 31 slices
    expect(inTurns).toEqual(createOpusEncoder({ backend: 'wasm' }).encode(input));
  });

  it('decodes across builds', () => {
    const packets = createOpusEncoder({ backend: 'native' }).encode(sine(300, 9600));
    expect(decodeAll(packets, 'wasm').length).toBe(9600);
  });

  it('encodes a voice from the lowest Opus rate that holds its band', () => {
    expect([8000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 96_000].map(opusInputRate)).toEqual([8000, 12_000, 16_000, 24_000, 24_000, 48_000, 48_000, 48_000]);
  });

  it('pools encoders by input rate', () => {
    const pool = new OpusEncoderPool({ bitrate: 32_000 });
    const at24 = pool.take(24_000);
    const at48 = pool.take();
    pool.give(at24);
    pool.give(at48);
    expect(pool.take(48_000)).toBe(at48);
    expect(pool.take(24_000)).toBe(at24);
    expect(pool.take(24_000).sampleRate).toBe(24_000);
  });

  it('rejects out-of-range bitrates, complexities and unknown applications', () => {
    for (const bitrate of [100, 600_000, 32_000.5]) expect(() => createOpusEncoder({ bitrate })).toThrow(RangeError);
    for (const complexity of [-1, 11, 2.5]) expect(() => createOpusEncoder({ complexity })).toThrow(RangeError);
    expect(() => createOpusEncoder({ application: 'music' as 'audio' })).toThrow(RangeError);
    expect(() => createOpusEncoder({ sampleRate: 22_050 as 24_000 })).toThrow(RangeError);
  });

  it('reads packet durations from the TOC byte', () => {
    expect(opusPacketSamples(Uint8Array.of(0 << 3))).toBe(480); // SILK 10 ms
    expect(opusPacketSamples(Uint8Array.of((3 << 3) | 1))).toBe(2 * 2880); // SILK 60 ms, two frames
    expect(opusPacketSamples(Uint8Array.of(13 << 3))).toBe(960); // hybrid 20 ms
    expect(opusPacketSamples(Uint8Array.of(16 << 3))).toBe(120); // CELT 2.5 ms
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 3, 5))).toBe(5 * 960); // CELT 20 ms, code 3, five frames
    expect(() => opusPacketSamples(new Uint8Array(0))).toThrow(RangeError);
    expect(() => opusPacketSamples(Uint8Array.of(3))).toThrow(RangeError);
  });

  it('falls back to the wasm build when the native addon fails to load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opus-fallback-'));
    const preload = join(dir, 'break-native.cjs');
    writeFileSync(
      preload,
      `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (String(request).includes('@evan/opus/node')) throw new Error('simulated: no native addon for this platform');
  return load.call(this, request, ...rest);
};`,
    );
    const opusModule = fileURLToPath(new URL('../src/stream/opus.ts', import.meta.url));
    const script = `const { createOpusEncoder, createOpusDecoder } = await import(${JSON.stringify(opusModule)});
const e = createOpusEncoder();
const packets = e.encode(new Float32Array(1920));
const d = createOpusDecoder();
console.log(JSON.stringify({ encoder: e.backend, decoder: d.backend, samples: d.decode(packets[0]).length }));
try { createOpusEncoder({ backend: 'native' }); } catch (err) { console.log('native refused'); }`;
    const child = spawnSync(process.execPath, ['--require', preload, '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.stderr).not.toMatch(/Error/);
    const [summary, refused] = child.stdout.trim().split('\n');
    expect(JSON.parse(summary as string)).toEqual({ encoder: 'wasm', decoder: 'wasm', samples: 960 });
    expect(refused).toBe('native refused');
  });
});
