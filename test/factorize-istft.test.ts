// scripts/factorize-istft.py on the fixture voice, whose vocoder was exported with the dense
// inverse STFT (one ConvTranspose per frame): its float graph and its int8 graph get the
// recipe's folded one, the engine's audio stays the same to float rounding, and a second run
// changes nothing.
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/pipeline/synthesis/engine.js';
import { maxAbsDiff, TINY_VOICE } from './runtime-fixtures.js';

const PYTHON = '/usr/bin/python3';
const script = (name: string) => new URL(`../scripts/${name}`, import.meta.url).pathname;
const TEXT = 'A folded transform, the same sound.';

async function speak(voiceDir: string): Promise<Float32Array> {
  const engine = await Engine.create({ voiceDir, workers: 1, intraOpThreads: 1, cacheEntries: 0 });
  try {
    return (await engine.synthesize(TEXT, { weights: { sad: 1 }, seed: 4, sampleRate: 24_000 })).audio;
  } finally {
    await engine.close();
  }
}

async function useVocoder(dir: string, file: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, 'voice.json'), 'utf8')) as { files: Record<string, string> };
  manifest.files.vocoder = file;
  await writeFile(join(dir, 'voice.json'), JSON.stringify(manifest));
}

const hasDenseTransform = async (graph: string) => (await readFile(graph)).includes('ConvTranspose');

describe('factorize-istft.py', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('folds the float and int8 vocoder graphs of a voice, and the audio stays within 1e-5', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emomix-istft-'));
    dirs.push(dir);
    await cp(TINY_VOICE, dir, { recursive: true });
    execFileSync(PYTHON, [script('quantize-int8.py'), dir], { stdio: 'ignore' });
    expect(await hasDenseTransform(join(dir, 'vocoder.int8.onnx'))).toBe(true);
    const [float, int8] = [await speak(TINY_VOICE), await speak(dir)];

    const report = execFileSync(PYTHON, [script('factorize-istft.py'), dir], { encoding: 'utf8' });
    expect(report).toMatch(/vocoder\.int8\.onnx: inverse STFT folded/);
    expect(report).toMatch(/vocoder\.onnx: inverse STFT folded/);
    for (const graph of ['vocoder.onnx', 'vocoder.int8.onnx']) expect(await hasDenseTransform(join(dir, graph))).toBe(false);
    expect(execFileSync(PYTHON, [script('factorize-istft.py'), dir], { encoding: 'utf8' })).toMatch(/vocoder\.int8\.onnx: already folded\n.*vocoder\.onnx: already folded/);

    const foldedInt8 = await speak(dir);
    expect(foldedInt8.length).toBe(int8.length);
    expect(maxAbsDiff(foldedInt8, int8)).toBeLessThan(1e-5);
    await useVocoder(dir, 'vocoder.onnx');
    const foldedFloat = await speak(dir);
    expect(foldedFloat.length).toBe(float.length);
    expect(maxAbsDiff(foldedFloat, float)).toBeLessThan(1e-5);
  }, 120_000);
});
