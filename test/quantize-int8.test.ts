// scripts/quantize-int8.py on the fixture voice: the int8 vocoder keeps the contract's
// signature (the engine loads it) and its audio stays within 30 dB SNR of the float
// vocoder's (the default voice measures 38 dB; docs/benchmarks.md).
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/pipeline/synthesis/engine.js';
import { TINY_VOICE } from './runtime-fixtures.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../scripts/quantize-int8.py', import.meta.url).pathname;

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

  it('writes an int8 vocoder, points voice.json at it, and keeps the audio', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emomix-int8-'));
    dirs.push(dir);
    await cp(TINY_VOICE, dir, { recursive: true });
    const report = execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
    expect(report).toMatch(/MatMuls in int8/);
    const manifest = JSON.parse(await readFile(join(dir, 'voice.json'), 'utf8')) as { files: Record<string, string> };
    expect(manifest.files['vocoder']).toBe('vocoder.int8.onnx');
    expect(execFileSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' })).toMatch(/already quantized/);

    const [float, int8] = [await synthesize(TINY_VOICE), await synthesize(dir)];
    expect(int8.length).toBe(float.length);
    let signal = 0;
    let noise = 0;
    for (let i = 0; i < float.length; i++) {
      signal += float[i]! ** 2;
      noise += (float[i]! - int8[i]!) ** 2;
    }
    expect(10 * Math.log10(signal / noise)).toBeGreaterThan(30);
  });
});
