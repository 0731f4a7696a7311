// Voice validation: a copy of the tiny voice, broken one field at a time, must fail
// start-up with the matching VoiceError code and name the file and field.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/pipeline/synthesis/engine.js';
import { checkGraphSignature, type GraphSignature } from '../src/pipeline/voice/graphs.js';
import { loadVoice } from '../src/pipeline/voice/load.js';
import type { VoiceErrorCode } from '../src/pipeline/voice/errors.js';
import { TINY_SPEAKERS_VOICE, TINY_VOICE } from './runtime-fixtures.js';

type Manifest = Record<string, any>;

describe('voice validation', () => {
  let root: string;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'emomix-voice-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  /** A fresh copy of the tiny voice (or another) with `edit` applied to its manifest (or files). */
  async function brokenVoice(edit: (m: Manifest, dir: string) => Promise<void> | void, source = TINY_VOICE): Promise<string> {
    const dir = join(root, `v${n++}`);
    await cp(source, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(source, 'voice.json'), 'utf8'));
    await edit(manifest, dir);
    if (manifest['__raw'] === undefined) await writeFile(join(dir, 'voice.json'), JSON.stringify(manifest));
    return dir;
  }

  async function expectVoiceError(load: Promise<unknown>, code: VoiceErrorCode, ...inMessage: string[]) {
    const err = await load.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'VoiceError', code });
    for (const text of inMessage) expect((err as Error).message).toContain(text);
  }

  it('loads the intact voice', async () => {
    const voice = await loadVoice(TINY_VOICE);
    expect(voice.manifest.emotions.map((e) => e.name)).toContain(voice.manifest.neutral);
  });

  const manifestCases: [string, VoiceErrorCode, (m: Manifest) => void, string][] = [
    ['an unsupported format version (1 has no frame decoder)', 'VOICE_FORMAT_UNSUPPORTED', (m) => void (m['formatVersion'] = 1), 'formatVersion'],
    ['a field of the wrong type', 'VOICE_FIELD_INVALID', (m) => void (m['mel']['hopLength'] = '64'), 'mel.hopLength'],
    ['a missing field', 'VOICE_FIELD_INVALID', (m) => void delete m['diffusion']['betaMax'], 'diffusion.betaMax'],
    ['a mel option the runtime does not implement', 'VOICE_FIELD_INVALID', (m) => void (m['mel']['center'] = true), 'mel.center'],
    ['a symbol table that differs from the front end', 'VOICE_SYMBOLS_MISMATCH', (m) => void ([m['symbols'][9], m['symbols'][10]] = [m['symbols'][10], m['symbols'][9]]), 'symbols[9]'],
    ['a shorter symbol table', 'VOICE_SYMBOLS_MISMATCH', (m) => void m['symbols'].pop(), 'symbols['],
    ['no neutral emotion', 'VOICE_NEUTRAL_MISSING', (m) => void delete m['neutral'], 'neutral'],
    ['a neutral that names no emotion', 'VOICE_EMOTION_UNKNOWN', (m) => void (m['neutral'] = 'calm'), 'neutral'],
    ['an emotion listed twice', 'VOICE_EMOTION_DUPLICATE', (m) => void (m['emotions'][1]['name'] = m['emotions'][0]['name']), 'emotions[1].name'],
    ['a centroid of the wrong dimension', 'VOICE_CENTROID_DIMENSION', (m) => void m['emotions'][2]['centroid'].push(0), 'emotions[2].centroid'],
  ];
  for (const [what, code, edit, field] of manifestCases) {
    it(`refuses ${what} with ${code}`, async () => {
      const dir = await brokenVoice(edit);
      await expectVoiceError(loadVoice(dir), code, join(dir, 'voice.json'), field);
    });
  }

  it('refuses a missing voice.json with VOICE_FILE_MISSING', async () => {
    await expectVoiceError(loadVoice(join(root, 'nowhere')), 'VOICE_FILE_MISSING', 'voice.json');
  });

  it('refuses voice.json that is not JSON with VOICE_JSON_INVALID', async () => {
    const dir = await brokenVoice(async (m, d) => {
      m['__raw'] = true;
      await writeFile(join(d, 'voice.json'), '{"format": ');
    });
    await expectVoiceError(loadVoice(dir), 'VOICE_JSON_INVALID', 'voice.json');
  });

  it('refuses a missing graph file with VOICE_FILE_MISSING naming files.ser', async () => {
    const dir = await brokenVoice(async (_, d) => rm(join(d, 'ser.onnx')));
    await expectVoiceError(loadVoice(dir), 'VOICE_FILE_MISSING', 'files.ser', 'ser.onnx');
  });

  it('refuses a graph whose inputs and outputs are not the contract’s with VOICE_GRAPH_SIGNATURE', async () => {
    const dir = await brokenVoice((m) => void (m['files']['ser'] = 'vocoder.onnx'));
    await expectVoiceError(Engine.create({ voiceDir: dir, workers: 1 }), 'VOICE_GRAPH_SIGNATURE', 'vocoder.onnx', 'outputs');
  });

  it('refuses an embedding dimension the graphs were not exported with', async () => {
    const dir = await brokenVoice((m) => {
      m['embeddingDim'] = 4;
      for (const e of m['emotions']) e['centroid'] = e['centroid'].slice(0, 4);
    });
    await expectVoiceError(Engine.create({ voiceDir: dir, workers: 1 }), 'VOICE_GRAPH_SIGNATURE', 'encoder.onnx', 'emotion', 'embeddingDim is 4');
  });

  it('reads a version 2 voice as one speaker, "default", and a version 3 voice\'s speakers', async () => {
    const v2 = (await loadVoice(TINY_VOICE)).manifest;
    expect(v2.formatVersion).toBe(2);
    expect(v2.speakerDim).toBe(0);
    expect(v2.speakers.map((s) => [s.id, s.embedding.length, s.emotions.length])).toEqual([['default', 0, 5]]);
    const v3 = (await loadVoice(TINY_SPEAKERS_VOICE)).manifest;
    expect(v3.formatVersion).toBe(3);
    expect(v3.speakers.map((s) => [s.id, s.embedding.length, s.emotions.map((e) => e.name).join(',')])).toEqual([
      ['0011', v3.speakerDim, 'neutral,happy,sad,angry,surprise'],
      ['0012', v3.speakerDim, 'neutral,happy,sad,angry'],
    ]);
  });

  const speakerCases: [string, VoiceErrorCode, (m: Manifest) => void, string][] = [
    ['a format version from the future', 'VOICE_FORMAT_UNSUPPORTED', (m) => void (m['formatVersion'] = 4), 'formatVersion'],
    ['no speakers', 'VOICE_FIELD_INVALID', (m) => void (m['speakers'] = []), 'speakers'],
    ['a speaker listed twice', 'VOICE_FIELD_INVALID', (m) => void (m['speakers'][1]['id'] = '0011'), 'speakers[1].id'],
    ['a speaker embedding of the wrong length', 'VOICE_FIELD_INVALID', (m) => void m['speakers'][0]['embedding'].pop(), 'speakers[0].embedding'],
    ['a speaker emotion the voice does not have', 'VOICE_EMOTION_UNKNOWN', (m) => void (m['speakers'][1]['emotions'][0]['name'] = 'calm'), 'speakers[1].emotions'],
    ['a speaker centroid of the wrong dimension', 'VOICE_CENTROID_DIMENSION', (m) => void m['speakers'][0]['emotions'][1]['centroid'].push(0), 'speakers[0].emotions[1].centroid'],
  ];
  for (const [what, code, edit, field] of speakerCases) {
    it(`refuses ${what} with ${code}`, async () => {
      const dir = await brokenVoice(edit, TINY_SPEAKERS_VOICE);
      await expectVoiceError(loadVoice(dir), code, join(dir, 'voice.json'), field);
    });
  }

  it('refuses a speakerDim the graphs were not exported with', async () => {
    const dir = await brokenVoice((m) => {
      m['speakerDim'] -= 1;
      for (const s of m['speakers']) s['embedding'].pop();
    }, TINY_SPEAKERS_VOICE);
    await expectVoiceError(Engine.create({ voiceDir: dir, workers: 1 }), 'VOICE_GRAPH_SIGNATURE', 'encoder.onnx', 'embeddingDim + speakerDim is');
  });

  it('refuses a graph onnxruntime cannot load with VOICE_GRAPH_LOAD_FAILED', async () => {
    const dir = await brokenVoice(async (_, d) => writeFile(join(d, 'estimator.onnx'), 'not a model'));
    await expectVoiceError(Engine.create({ voiceDir: dir, workers: 1 }), 'VOICE_GRAPH_LOAD_FAILED', 'estimator.onnx');
  });
});

describe('checkGraphSignature', () => {
  const manifest = { mel: { nMels: 80 }, embeddingDim: 8 } as Parameters<typeof checkGraphSignature>[3];
  const vocoder = (shape: (number | string)[]): GraphSignature => ({
    inputs: [{ name: 'mel', isTensor: true, type: 'float32', shape }],
    outputs: [{ name: 'audio', isTensor: true, type: 'float32', shape: ['B', 'L'] }],
  });

  it('accepts dynamic axes and the manifest’s fixed sizes', () => {
    expect(() => checkGraphSignature('vocoder', 'v.onnx', vocoder(['B', 80, 'T']), manifest)).not.toThrow();
  });

  it('refuses a wrong rank, a wrong fixed size and a wrong type', () => {
    expect(() => checkGraphSignature('vocoder', 'v.onnx', vocoder(['B', 80]), manifest)).toThrow(/rank 3/);
    expect(() => checkGraphSignature('vocoder', 'v.onnx', vocoder(['B', 64, 'T']), manifest)).toThrow(/nMels is 80/);
    const int64 = vocoder(['B', 80, 'T']);
    int64.inputs[0]!.type = 'int64';
    expect(() => checkGraphSignature('vocoder', 'v.onnx', int64, manifest)).toThrow(expect.objectContaining({ code: 'VOICE_GRAPH_SIGNATURE' }));
  });
});
