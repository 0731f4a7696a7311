// Parses and checks voice.json (models/recipe/CONTRACT.md, "voice.json"). Pure: the
// caller reads the file and passes its text, so that every rule is unit-testable.
import { VoiceError } from './errors.js';

export const GRAPH_NAMES = ['encoder', 'decoder', 'estimator', 'vocoder', 'ser'] as const;
export type GraphName = (typeof GRAPH_NAMES)[number];

export interface MelConfig {
  sampleRate: number;
  nFft: number;
  winLength: number;
  hopLength: number;
  nMels: number;
  fMin: number;
  fMax: number;
  logFloor: number;
  window: 'hann-periodic';
  center: false;
  padMode: 'reflect';
  padding: number;
  melScale: 'slaney';
  melNorm: 'slaney';
  magnitudeEps: number;
}

/** The samplers of CONTRACT.md ("Sampler"): Euler on the probability-flow ODE, the reverse SDE, Heun on the ODE. */
export const SOLVERS = ['ode', 'sde', 'heun'] as const;
export type Solver = (typeof SOLVERS)[number];

export interface DiffusionConfig {
  betaMin: number;
  betaMax: number;
  steps: number;
  temperature: number;
  solver: Solver;
  lengthScale: number;
}

export interface VoiceEmotion {
  name: string;
  centroid: Float32Array;
}

export interface VoiceManifest {
  format: 'emomix-voice';
  formatVersion: 2;
  id: string;
  name: string;
  license: string;
  description: string;
  audio: { sampleRate: number };
  mel: MelConfig;
  frontend: { name: string; version: number; phoneset: string };
  symbols: string[];
  frameMultiple: number;
  embeddingDim: number;
  neutral: string;
  emotions: VoiceEmotion[];
  diffusion: DiffusionConfig;
  estimator: { preset: string };
  files: Record<GraphName, string>;
  metrics?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Reads typed fields of one JSON object, naming the dotted path in every error. */
class Fields {
  constructor(
    readonly file: string,
    private readonly obj: Json,
    private readonly path: string,
  ) {}

  private fail(key: string, detail: string): never {
    throw new VoiceError('VOICE_FIELD_INVALID', this.file, this.at(key), detail);
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    const value = this.obj[key];
    if (value === undefined) this.fail(key, 'is missing');
    return value;
  }

  text(key: string): string {
    const value = this.raw(key);
    if (typeof value !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(value)}`);
    return value;
  }

  string(key: string): string {
    const value = this.raw(key);
    if (typeof value !== 'string' || value === '') this.fail(key, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
  }

  literal<T extends string | number | boolean>(key: string, allowed: readonly T[]): T {
    const value = this.raw(key);
    if (!allowed.includes(value as T)) {
      this.fail(key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (the runtime implements only these), got ${JSON.stringify(value)}`);
    }
    return value as T;
  }

  number(key: string, check: { min?: number; exclusiveMin?: number; integer?: boolean } = {}): number {
    const value = this.raw(key);
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, `must be a finite number, got ${JSON.stringify(value)}`);
    if (check.integer && !Number.isInteger(value)) this.fail(key, `must be an integer, got ${value}`);
    if (check.min !== undefined && value < check.min) this.fail(key, `must be at least ${check.min}, got ${value}`);
    if (check.exclusiveMin !== undefined && value <= check.exclusiveMin) this.fail(key, `must be greater than ${check.exclusiveMin}, got ${value}`);
    return value;
  }

  object(key: string): Fields {
    const value = this.raw(key);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(key, 'must be an object');
    return new Fields(this.file, value as Json, this.at(key));
  }

  array(key: string): unknown[] {
    const value = this.raw(key);
    if (!Array.isArray(value)) this.fail(key, 'must be an array');
    return value;
  }
}

function parseMel(f: Fields): MelConfig {
  const mel: MelConfig = {
    sampleRate: f.number('sampleRate', { integer: true, min: 1 }),
    nFft: f.number('nFft', { integer: true, min: 2 }),
    winLength: f.number('winLength', { integer: true, min: 1 }),
    hopLength: f.number('hopLength', { integer: true, min: 1 }),
    nMels: f.number('nMels', { integer: true, min: 1 }),
    fMin: f.number('fMin', { min: 0 }),
    fMax: f.number('fMax', { exclusiveMin: 0 }),
    logFloor: f.number('logFloor', { exclusiveMin: 0 }),
    window: f.literal('window', ['hann-periodic'] as const),
    center: f.literal('center', [false] as const),
    padMode: f.literal('padMode', ['reflect'] as const),
    padding: f.number('padding', { integer: true, min: 0 }),
    melScale: f.literal('melScale', ['slaney'] as const),
    melNorm: f.literal('melNorm', ['slaney'] as const),
    magnitudeEps: f.number('magnitudeEps', { min: 0 }),
  };
  if ((mel.nFft & (mel.nFft - 1)) !== 0) {
    throw new VoiceError('VOICE_FIELD_INVALID', f.file, f.at('nFft'), `must be a power of two, got ${mel.nFft}`);
  }
  if (mel.winLength !== mel.nFft) {
    throw new VoiceError('VOICE_FIELD_INVALID', f.file, f.at('winLength'), `must equal nFft (${mel.nFft}), got ${mel.winLength}`);
  }
  if (mel.padding * 2 !== mel.nFft - mel.hopLength) {
    throw new VoiceError('VOICE_FIELD_INVALID', f.file, f.at('padding'), `must be (nFft − hopLength)/2 = ${(mel.nFft - mel.hopLength) / 2}, got ${mel.padding}`);
  }
  if (mel.fMax <= mel.fMin || mel.fMax > mel.sampleRate / 2) {
    throw new VoiceError('VOICE_FIELD_INVALID', f.file, f.at('fMax'), `must lie in (fMin, sampleRate/2], got ${mel.fMax}`);
  }
  return mel;
}

function parseEmotions(file: string, root: Fields, embeddingDim: number): VoiceEmotion[] {
  const list = root.array('emotions');
  if (list.length === 0) throw new VoiceError('VOICE_FIELD_INVALID', file, 'emotions', 'must list at least one emotion');
  const seen = new Set<string>();
  return list.map((item, i) => {
    if (typeof item !== 'object' || item === null) throw new VoiceError('VOICE_FIELD_INVALID', file, `emotions[${i}]`, 'must be an object');
    const f = new Fields(file, item as Json, `emotions[${i}]`);
    const name = f.string('name');
    if (seen.has(name)) throw new VoiceError('VOICE_EMOTION_DUPLICATE', file, f.at('name'), `emotion "${name}" is listed twice`);
    seen.add(name);
    const centroid = f.array('centroid');
    if (centroid.length !== embeddingDim) {
      throw new VoiceError('VOICE_CENTROID_DIMENSION', file, f.at('centroid'), `has ${centroid.length} values, embeddingDim is ${embeddingDim}`);
    }
    if (!centroid.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new VoiceError('VOICE_FIELD_INVALID', file, f.at('centroid'), 'must hold finite numbers only');
    }
    return { name, centroid: Float32Array.from(centroid as number[]) };
  });
}

/** Parses voice.json text; `file` is the path used in error messages. */
export function parseManifest(text: string, file: string): VoiceManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new VoiceError('VOICE_JSON_INVALID', file, undefined, `is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VoiceError('VOICE_JSON_INVALID', file, undefined, 'must hold a JSON object');
  }
  const root = new Fields(file, json as Json, '');
  if (root.raw('format') !== 'emomix-voice') {
    throw new VoiceError('VOICE_FORMAT_UNSUPPORTED', file, 'format', `must be "emomix-voice", got ${JSON.stringify(root.raw('format'))}`);
  }
  if (root.raw('formatVersion') !== 2) {
    throw new VoiceError('VOICE_FORMAT_UNSUPPORTED', file, 'formatVersion', `this runtime reads version 2 (version 1 voices have no frame decoder), got ${JSON.stringify(root.raw('formatVersion'))}`);
  }

  const audio = root.object('audio');
  const sampleRate = audio.number('sampleRate', { integer: true, min: 1 });
  const mel = parseMel(root.object('mel'));
  if (mel.sampleRate !== sampleRate) {
    throw new VoiceError('VOICE_FIELD_INVALID', file, 'mel.sampleRate', `must equal audio.sampleRate (${sampleRate}), got ${mel.sampleRate}`);
  }
  const frontend = root.object('frontend');
  const symbols = root.array('symbols');
  if (!symbols.every((s) => typeof s === 'string')) throw new VoiceError('VOICE_FIELD_INVALID', file, 'symbols', 'must hold strings only');

  const embeddingDim = root.number('embeddingDim', { integer: true, min: 1 });
  const emotions = parseEmotions(file, root, embeddingDim);
  if (!root.has('neutral')) throw new VoiceError('VOICE_NEUTRAL_MISSING', file, 'neutral', 'is missing: a voice names its neutral emotion');
  const neutral = root.string('neutral');
  if (!emotions.some((e) => e.name === neutral)) {
    throw new VoiceError('VOICE_EMOTION_UNKNOWN', file, 'neutral', `names "${neutral}", which is not among emotions (${emotions.map((e) => e.name).join(', ')})`);
  }

  const diffusion = root.object('diffusion');
  const files = root.object('files');
  const estimator = root.object('estimator');
  const metrics = root.has('metrics') ? root.object('metrics') : undefined;
  return {
    format: 'emomix-voice',
    formatVersion: 2,
    id: root.string('id'),
    name: root.string('name'),
    license: root.string('license'),
    description: root.text('description'),
    audio: { sampleRate },
    mel,
    frontend: {
      name: frontend.string('name'),
      version: frontend.number('version', { integer: true, min: 0 }),
      phoneset: frontend.string('phoneset'),
    },
    symbols: symbols as string[],
    frameMultiple: root.number('frameMultiple', { integer: true, min: 1 }),
    embeddingDim,
    neutral,
    emotions,
    diffusion: {
      betaMin: diffusion.number('betaMin', { min: 0 }),
      betaMax: diffusion.number('betaMax', { exclusiveMin: 0 }),
      steps: diffusion.number('steps', { integer: true, min: 1 }),
      temperature: diffusion.number('temperature', { exclusiveMin: 0 }),
      solver: diffusion.literal('solver', SOLVERS),
      lengthScale: diffusion.number('lengthScale', { exclusiveMin: 0 }),
    },
    estimator: { preset: estimator.string('preset') },
    files: Object.fromEntries(GRAPH_NAMES.map((g) => [g, files.string(g)])) as Record<GraphName, string>,
    ...(metrics ? { metrics: (json as Json)['metrics'] as Record<string, unknown> } : {}),
  };
}
