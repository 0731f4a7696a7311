// scripts/quantize-int8.py on the fixture voice: the int8 graphs keep the contract's
// signature (the engine loads them) and the audio stays within 30 dB SNR of the float
// graphs' (the default voice measures 38 dB for the vocoder; docs/benchmarks.md). The
// estimator is quantized when it was exported in matrix products, as the recipe now
// exports it (test/fixtures/scripts/matmul-estimator.py writes the tiny voice's that way).
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/pipeline/synthesis/engine.js';
import { TINY_VOICE } from './runtime-fixtures.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../scripts/quantize-int8.py', import.meta.url).pathname;
const MATMUL_ESTIMATOR = new URL('./fixtures/scripts/matmul-estimator.py', import.meta.url).pathname;

function snrDb(reference: Float32Array, other: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i]! ** 2;
    noise += (reference[i]! - other[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

describe('quantize-int8.py', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function synthesize(voiceDir: string): Promise<Float32Array> {
    const engine = await Engine.create({ voiceDir, workers: 1, intraOpThreads: 1, cacheEntries: 0 });
    try {
      return (await engine.synthesize('The quick brown fox jumps over the lazy dog.', { weights: { happy: 1 }, seed: 1 })).audio;
    } finally {
      await engine.close();
    }
  }

  async function copyOfTinyVoice(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'emomix-int8-'));
    dirs.push(dir);
    await cp(TINY_VOICE, dir, { recursive: true });
    return dir;
  }

  async function files(dir: string): Promise<Record<string, string>> {
    return (JSON.parse(await readFile(join(dir, 'voice.json'), 'utf8')) as { files: Record<string, string> }).files;
  }

  it('writes an int8 vocoder, points voice.json at it, leaves a convolutional estimator in float, and keeps the audio', async () => {
    const dir = await copyOfTinyVoice();
    const report = execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
    expect(report).toMatch(/vocoder\.int8\.onnx: \d+ MatMuls in int8/);
    expect(report).toMatch(/estimator\.onnx: no MatMul with a constant weight; left in float/);
    expect(await files(dir)).toMatchObject({ vocoder: 'vocoder.int8.onnx', estimator: 'estimator.onnx' });
    expect(execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' })).toMatch(/vocoder\.int8\.onnx is already quantized/);

    const [float, int8] = [await synthesize(TINY_VOICE), await synthesize(dir)];
    expect(int8.length).toBe(float.length);
    expect(snrDb(float, int8)).toBeGreaterThan(30);
  });

  it('runs an estimator exported in matrix products as the convolutions in float (within 100 dB), and within 30 dB in int8', async () => {
    const dir = await copyOfTinyVoice();
    execFileSync(PYTHON, [MATMUL_ESTIMATOR, join(dir, 'estimator.onnx')], { stdio: 'ignore' });
    const float = await synthesize(TINY_VOICE);
    const rewritten = await synthesize(dir);
    expect(rewritten.length).toBe(float.length);
    expect(snrDb(float, rewritten)).toBeGreaterThan(100);

    const report = execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
    expect(report).toMatch(/estimator\.int8\.onnx: 9 MatMuls in int8/);
    expect(await files(dir)).toMatchObject({ vocoder: 'vocoder.int8.onnx', estimator: 'estimator.int8.onnx' });
    const int8 = await synthesize(dir);
    expect(int8.length).toBe(float.length);
    expect(snrDb(float, int8)).toBeGreaterThan(30);
  }, 60_000);
});
