// `emomix synth` on the tiny voice: WAV lengths and rates, phone counts, the vocoder-only
// mel requests, input order under --jobs, and the refusals.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phonemize } from '../src/pipeline/frontend/index.js';
import { Engine } from '../src/pipeline/synthesis/engine.js';
import { parseLine, phoneCount, readNpyFloat32 } from '../src/cli/synth.js';
import { floatToInt16 } from '../src/stream/pcm.js';
import { readWav } from '../src/stream/wav.js';
import { emomixText } from './clients-harness.js';
import { TINY_VOICE } from './runtime-fixtures.js';

const cli = (args: string[], input: string) => emomixText(['synth', ...args], input);

/** A .npy file (format 1.0) as numpy.save writes it. */
function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

const lines = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('readNpyFloat32 and parseLine', () => {
  it('reads a float32 C-order matrix and refuses other layouts', () => {
    const values = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
    const m = readNpyFloat32(npy('<f4', [2, 3], floatBytes(values)));
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual(Array.from(values));
    expect(() => readNpyFloat32(npy('<f8', [2, 3], new Uint8Array(48)))).toThrow(/float32/);
    expect(() => readNpyFloat32(npy('<f4', [2, 3], floatBytes(values), true))).toThrow(/C order/);
    expect(() => readNpyFloat32(npy('<f4', [6], floatBytes(values)))).toThrow(/2-D/);
    expect(() => readNpyFloat32(npy('<f4', [2, 4], floatBytes(values)))).toThrow(/truncated/);
    expect(() => readNpyFloat32(new Uint8Array(20))).toThrow(/not a \.npy/);
  });

  it('passes the synthesis fields through and refuses malformed lines', () => {
    const line = parseLine('{"text":"Hi.","out":"a.wav","weights":{"sad":1},"steps":3,"seed":4,"colour":"red"}');
    expect(line).toEqual({ kind: 'text', text: 'Hi.', out: 'a.wav', request: { weights: { sad: 1 }, steps: 3, seed: 4 }, recognise: false });
    expect(parseLine('{"text":"Hi.","out":"a.wav","weights":{"sad":1},"recognise":true}')).toMatchObject({ recognise: true });
    expect(() => parseLine('{"text":"Hi.","out":"a.wav","weights":{"sad":1},"recognise":"yes"}')).toThrow(/"recognise"/);
    expect(() => parseLine('[1]')).toThrow(/object/);
    expect(() => parseLine('{"text":"Hi.","weights":{}}')).toThrow(/"out"/);
    expect(() => parseLine('{"text":"Hi.","out":"a.wav"}')).toThrow(/"weights"/);
    expect(() => parseLine('{"text":"Hi.","mel":"m.npy","out":"a.wav"}')).toThrow(/either/);
  });

  it('counts phones, not punctuation', () => {
    const text = 'Well, hello there!';
    const { symbols } = phonemize(text);
    expect(symbols.filter((s) => s === ',' || s === '!')).toHaveLength(2);
    expect(phoneCount(text)).toBe(symbols.length - 2);
  });
});

describe('emomix synth on the tiny voice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emomix-synth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const voice = JSON.parse(readFileSync(join(TINY_VOICE, 'voice.json'), 'utf8')) as { audio: { sampleRate: number }; mel: { hopLength: number; nMels: number } };
  const rate = voice.audio.sampleRate;
  const hop = voice.mel.hopLength;

  it('writes one WAV per request, of the reported length, with replies in input order', async () => {
    const texts = ['Well, hello there! It is a fine day for a walk.', 'No.', 'Are you sure about that?'];
    const requests = texts.map((text, i) => ({ text, out: join(dir, `t${i}.wav`), weights: { happy: 0.5, sad: 0.5 }, intensity: 0.5, steps: 2, seed: i, recognise: i === 0, ...(i === 2 ? { solver: 'heun' } : {}) }));
    const { code, stdout, stderr } = await cli(['--voice', TINY_VOICE, '--jsonl', '--jobs', '2'], lines(requests));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const replies = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(replies.map((r) => r.out)).toEqual(requests.map((r) => r.out));
    for (const [i, reply] of replies.entries()) {
      const wav = await readWav(readFileSync(reply.out));
      expect(wav.sampleRate).toBe(rate);
      expect(wav.samples.length % hop).toBe(0);
      expect(wav.samples.length).toBeGreaterThan(0);
      expect(reply.durationMs).toBeCloseTo((wav.samples.length / rate) * 1000, 6);
      expect(reply.phonemes).toBe(phoneCount(texts[i]!));
      expect(reply.seed).toBe(i);
      // Heun's 2 steps call the estimator 3 times.
      expect(reply.timings.estimatorMs).toHaveLength(i === 2 ? 3 : 2);
    }
    const probabilities = replies[0].emotion as Record<string, number>;
    expect(Object.keys(probabilities)).toEqual(['neutral', 'happy', 'sad', 'angry', 'surprise']);
    expect(Object.values(probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(replies[1].emotion).toBeUndefined();
  });

  it('writes exactly the engine audio for the same seed, as 16-bit PCM', async () => {
    const request = { weights: { angry: 1 }, steps: 3, seed: 11, temperature: 1.2 };
    const text = 'Give it back to me.';
    const out = join(dir, 'same.wav');
    const { code } = await cli(['--voice', TINY_VOICE, '--jsonl'], lines([{ text, out, ...request }]));
    expect(code).toBe(0);
    const engine = await Engine.create({ voiceDir: TINY_VOICE, workers: 1, intraOpThreads: 1 });
    try {
      const direct = await engine.synthesize(text, request);
      expect(Array.from(floatToInt16((await readWav(readFileSync(out))).samples))).toEqual(Array.from(floatToInt16(direct.audio)));
    } finally {
      await engine.close();
    }
  });

  it('vocodes a mel request to frames × hop samples', async () => {
    const frames = 37;
    const mel = Float32Array.from({ length: voice.mel.nMels * frames }, (_, i) => -6 + Math.sin(i / 7));
    const melPath = join(dir, 'm.npy');
    writeFileSync(melPath, npy('<f4', [voice.mel.nMels, frames], floatBytes(mel)));
    const out = join(dir, 'm.wav');
    const { code, stdout } = await cli(['--voice', TINY_VOICE, '--jsonl'], lines([{ mel: melPath, out }]));
    expect(code).toBe(0);
    const reply = JSON.parse(stdout);
    expect(reply.frames).toBe(frames);
    const wav = await readWav(readFileSync(out));
    expect(wav.sampleRate).toBe(rate);
    expect(wav.samples.length).toBe(frames * hop);
  });

  it('exits 1 naming the first bad line, after the replies before it', async () => {
    const good = { text: 'Hello.', out: join(dir, 'g.wav'), weights: { neutral: 1 }, steps: 1 };
    const { code, stdout, stderr } = await cli(['--voice', TINY_VOICE, '--jsonl'], lines([good, { ...good, weights: { bored: 1 } }, good]));
    expect(code).toBe(1);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/line 2: .*unknown emotion "bored"/);
    const wrongBins = join(dir, 'bins.npy');
    writeFileSync(wrongBins, npy('<f4', [4, 2], new Uint8Array(32)));
    const bins = await cli(['--voice', TINY_VOICE, '--jsonl'], lines([{ mel: wrongBins, out: join(dir, 'b.wav') }]));
    expect(bins.code).toBe(1);
    expect(bins.stderr).toMatch(/line 1: .*4 mel bins, the voice has 80/);
    const notJson = await cli(['--voice', TINY_VOICE, '--jsonl'], 'hello\n');
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/line 1: not JSON/);
  });

  it('exits 2 on bad options and 1 on a missing voice', async () => {
    expect((await cli(['--jsonl'], '')).code).toBe(2);
    expect((await cli(['--voice', TINY_VOICE], '')).code).toBe(2);
    expect((await cli(['--voice', TINY_VOICE, '--jsonl', '--threads', '0'], '')).code).toBe(2);
    const missing = await cli(['--voice', join(dir, 'nowhere'), '--jsonl'], '');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot load the voice/);
  });
});
