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

/**
 * One speaker of the voice (CONTRACT.md, "Speakers"). The graphs are conditioned on the
 * emotion embedding followed by `embedding`; `emotions` are the emotions recorded for this
 * speaker, with centroids over the speaker's own utterances.
 */
export interface VoiceSpeaker {
  id: string;
  name: string;
  /** [speakerDim]; empty in a one-speaker voice. */
  embedding: Float32Array;
  emotions: VoiceEmotion[];
}

export interface VoiceManifest {
  format: 'emomix-voice';
  /** 3 adds speakers; a version 2 voice reads as one speaker, "default", with speakerDim 0. */
  formatVersion: 2 | 3;
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
  speakerDim: number;
  /** At least one; the first is the default. */
  speakers: VoiceSpeaker[];
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

function vector(f: Fields, key: string, length: number, lengthName: string, code: 'VOICE_CENTROID_DIMENSION' | 'VOICE_FIELD_INVALID'): Float32Array {
  const values = f.array(key);
  if (values.length !== length) throw new VoiceError(code, f.file, f.at(key), `has ${values.length} values, ${lengthName} is ${length}`);
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new VoiceError('VOICE_FIELD_INVALID', f.file, f.at(key), 'must hold finite numbers only');
  }
  return Float32Array.from(values as number[]);
}

function objectAt(file: string, item: unknown, path: string): Fields {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new VoiceError('VOICE_FIELD_INVALID', file, path, 'must be an object');
  return new Fields(file, item as Json, path);
}

function parseEmotions(file: string, parent: Fields, embeddingDim: number, allowEmpty = false): VoiceEmotion[] {
  const list = parent.array('emotions');
  if (list.length === 0 && !allowEmpty) throw new VoiceError('VOICE_FIELD_INVALID', file, parent.at('emotions'), 'must list at least one emotion');
  const seen = new Set<string>();
  return list.map((item, i) => {
    const f = objectAt(file, item, parent.at(`emotions[${i}]`));
    const name = f.string('name');
    if (seen.has(name)) throw new VoiceError('VOICE_EMOTION_DUPLICATE', file, f.at('name'), `emotion "${name}" is listed twice`);
    seen.add(name);
    return { name, centroid: vector(f, 'centroid', embeddingDim, 'embeddingDim', 'VOICE_CENTROID_DIMENSION') };
  });
}

/** Version 3's speakers: ids unique, embeddings of speakerDim, emotions among the voice's. */
function parseSpeakers(file: string, root: Fields, speakerDim: number, embeddingDim: number, emotions: VoiceEmotion[]): VoiceSpeaker[] {
  const list = root.array('speakers');
  if (list.length === 0) throw new VoiceError('VOICE_FIELD_INVALID', file, 'speakers', 'must list at least one speaker');
  const ids = new Set<string>();
  return list.map((item, i) => {
    const f = objectAt(file, item, `speakers[${i}]`);
    const id = f.string('id');
    if (ids.has(id)) throw new VoiceError('VOICE_FIELD_INVALID', file, f.at('id'), `speaker "${id}" is listed twice`);
    ids.add(id);
    const own = parseEmotions(file, f, embeddingDim, true);
    const stray = own.find((e) => !emotions.some((g) => g.name === e.name));
    if (stray) throw new VoiceError('VOICE_EMOTION_UNKNOWN', file, f.at('emotions'), `names "${stray.name}", which is not among emotions (${emotions.map((e) => e.name).join(', ')})`);
    return { id, name: f.string('name'), embedding: vector(f, 'embedding', speakerDim, 'speakerDim', 'VOICE_FIELD_INVALID'), emotions: own };
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
  const formatVersion = root.raw('formatVersion');
  if (formatVersion !== 2 && formatVersion !== 3) {
    throw new VoiceError('VOICE_FORMAT_UNSUPPORTED', file, 'formatVersion', `this runtime reads versions 2 and 3 (version 1 voices have no frame decoder), got ${JSON.stringify(formatVersion)}`);
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

  const name = root.string('name');
  const speakerDim = formatVersion === 3 ? root.number('speakerDim', { integer: true, min: 0 }) : 0;
  const speakers = formatVersion === 3
    ? parseSpeakers(file, root, speakerDim, embeddingDim, emotions)
    : [{ id: 'default', name, embedding: new Float32Array(0), emotions }];

  const diffusion = root.object('diffusion');
  const files = root.object('files');
  const estimator = root.object('estimator');
  const metrics = root.has('metrics') ? root.object('metrics') : undefined;
  return {
    format: 'emomix-voice',
    formatVersion,
    id: root.string('id'),
    name,
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
    speakerDim,
    speakers,
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

/** Width of the graphs' `emotion` inputs: the emotion embedding, then the speaker's. */
export function conditionDim(voice: Pick<VoiceManifest, 'embeddingDim' | 'speakerDim'>): number {
  return voice.embeddingDim + voice.speakerDim;
}
