// `emomix synth`: batch synthesis from JSON lines, for the recipe's `evaluate` (Python has
// no onnxruntime, so every measurement of a voice goes through this runtime).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { writeWav } from '../stream/wav.js';
import { phonemize } from '../pipeline/frontend/index.js';
import { PUNCTUATION } from '../pipeline/frontend/symbols.js';
import { Engine, type SynthesisRequest } from '../pipeline/synthesis/index.js';

const HELP = `usage: emomix synth --voice <dir> --jsonl [--threads N] [--jobs N]

Reads one JSON object per line on stdin and writes a 16-bit mono WAV at the voice's rate
for each, printing one JSON line per request, in input order.

  text request:  {"text": "...", "out": "a.wav", "weights": {"happy": 1},
                  "intensity"?, "steps"?, "temperature"?, "seed"?, "solver"?, "mode"?, "speaker"?,
                  "recognise"?: true}
             →   {"out", "durationMs", "phonemes", "seed", "timings", "emotion"?}
                 phonemes counts phone symbols (not punctuation); timings are the engine's
                 (frontendMs, encoderMs, decoderMs, estimatorMs[], vocoderMs, totalMs); with "recognise",
                 emotion holds the voice's SER class probabilities of the output.
  mel request:   {"mel": "m.npy", "out": "a.wav"}   the vocoder alone on a log-mel saved by
                 numpy.save as float32 [nMels, frames] (C order)
             →   {"out", "durationMs", "frames", "timings": {"vocoderMs"}}

  --voice DIR    voice folder (voice.json and its ONNX graphs)
  --threads N    onnxruntime intra-op threads per worker (default 1)
  --jobs N       requests in flight at once, one inference worker each (default 1)

Exits 1 at the first bad line (invalid JSON or request, failed synthesis), naming it;
2 on bad options.
`;

/** The request fields the engine takes from a line, besides `weights`. */
const PASSED_THROUGH = ['intensity', 'steps', 'temperature', 'seed', 'solver', 'mode', 'speaker'] as const;

export type SynthLine =
  | { kind: 'text'; text: string; out: string; request: SynthesisRequest; recognise: boolean }
  | { kind: 'mel'; mel: string; out: string };

export class LineError extends Error {}

/** Checks one input line's shape; the engine checks the values of the synthesis fields. */
export function parseLine(line: string): SynthLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new LineError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LineError('a request must be a JSON object');
  const obj = value as Record<string, unknown>;
  if (typeof obj['out'] !== 'string' || obj['out'] === '') throw new LineError('"out" must be a non-empty path');
  const out = obj['out'];
  if (obj['mel'] !== undefined) {
    if (obj['text'] !== undefined) throw new LineError('give either "text" or "mel", not both');
    if (typeof obj['mel'] !== 'string' || obj['mel'] === '') throw new LineError('"mel" must be a path to a .npy file');
    return { kind: 'mel', mel: obj['mel'], out };
  }
  if (typeof obj['text'] !== 'string') throw new LineError('a request needs "text" (a string) or "mel" (a .npy path)');
  const weights = obj['weights'];
  if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) throw new LineError('"weights" must be an object of emotion name → weight');
  if (obj['recognise'] !== undefined && typeof obj['recognise'] !== 'boolean') throw new LineError('"recognise" must be true or false');
  const request: Record<string, unknown> = { weights };
  for (const key of PASSED_THROUGH) if (obj[key] !== undefined) request[key] = obj[key];
  return { kind: 'text', text: obj['text'], out, request: request as unknown as SynthesisRequest, recognise: obj['recognise'] === true };
}

export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * A 2-D little-endian float32 C-order array in NumPy's .npy format (versions 1–3). Hand-written:
 * only this one layout is needed, and its header is a short Python dict literal.
 */
export function readNpyFloat32(bytes: Uint8Array): Matrix {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new LineError('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const [headerLength, headerStart] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4' || fortran !== 'False' || shape === undefined) {
    throw new LineError(`.npy must hold float32 ('<f4') in C order, got descr ${descr}, fortran_order ${fortran}`);
  }
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dims.length !== 2) throw new LineError(`.npy must be 2-D [nMels, frames], got shape (${shape})`);
  const [rows, cols] = dims as [number, number];
  const start = headerStart + headerLength;
  if (bytes.length - start < rows * cols * 4) throw new LineError(`.npy is truncated: ${rows}×${cols} float32 need ${rows * cols * 4} bytes`);
  // Copy into an aligned buffer: the data offset is a multiple of 16 in the file, not in memory.
  const data = new Float32Array(new Uint8Array(bytes.subarray(start, start + rows * cols * 4)).buffer);
  return { rows, cols, data };
}

/** Phone symbols of a text as the front end reads it (punctuation excluded). */
export function phoneCount(text: string): number {
  const punctuation = new Set<string>(PUNCTUATION);
  return phonemize(text).symbols.filter((s) => !punctuation.has(s)).length;
}

interface Options {
  voice: string;
  threads: number;
  jobs: number;
}

class UsageError extends Error {}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be an integer ≥ 1, got ${value}`);
  return n;
}

/** undefined: --help was asked for. */
function parseOptions(argv: string[]): Options | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { voice: { type: 'string' }, jsonl: { type: 'boolean' }, threads: { type: 'string' }, jobs: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return undefined;
  if (!values.voice) throw new UsageError('--voice <dir> is required');
  if (!values.jsonl) throw new UsageError('--jsonl is required (requests are read as JSON lines on stdin)');
  return { voice: values.voice, threads: count(values.threads, 'threads', 1), jobs: count(values.jobs, 'jobs', 1) };
}

async function writeAudio(path: string, audio: Float32Array, sampleRate: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, writeWav(audio, sampleRate));
}

async function perform(line: SynthLine, engine: Engine): Promise<Record<string, unknown>> {
  const sampleRate = engine.voice.audio.sampleRate;
  const nMels = engine.voice.mel.nMels;
  if (line.kind === 'mel') {
    const mel = readNpyFloat32(new Uint8Array(await readFile(line.mel)));
    if (mel.rows !== nMels) throw new LineError(`${line.mel}: ${mel.rows} mel bins, the voice has ${nMels}`);
    const started = performance.now();
    const audio = await engine.vocode(mel.data, mel.cols);
    const vocoderMs = performance.now() - started;
    await writeAudio(line.out, audio, sampleRate);
    return { out: line.out, durationMs: (audio.length / sampleRate) * 1000, frames: mel.cols, timings: { vocoderMs } };
  }
  const result = await engine.synthesize(line.text, line.request);
  await writeAudio(line.out, result.audio, sampleRate);
  const reply = { out: line.out, durationMs: result.durationMs, phonemes: phoneCount(line.text), seed: result.seed, timings: result.timings };
  return line.recognise ? { ...reply, emotion: await engine.recognise(result.audio) } : reply;
}

/** Reads requests, keeps up to `jobs` in flight, writes replies in input order; stops at the first failure. */
async function serveLines(engine: Engine, jobs: number): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const running = new Set<Promise<void>>();
  let replies: Promise<void> = Promise.resolve();
  let failed = false;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (failed) break;
    if (raw.trim() === '') continue;
    const at = lineNo;
    const task = (async () => perform(parseLine(raw), engine))().catch((err: Error) => {
      throw new LineError(`line ${at}: ${err.message}`, { cause: err });
    });
    // The failure itself surfaces through `replies`, in input order; here it only stops the reading.
    const settled: Promise<void> = task.then(
      () => void running.delete(settled),
      () => {
        running.delete(settled);
        failed = true;
        lines.close();
      },
    );
    running.add(settled);
    replies = replies.then(async () => {
      process.stdout.write(`${JSON.stringify(await task)}\n`);
    });
    replies.catch(() => undefined);
    if (running.size >= jobs) await Promise.race(running);
  }
  await Promise.all(running);
  await replies;
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`emomix synth: ${err.message}\n${HELP}`);
    return 2;
  }
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  let engine: Engine;
  try {
    engine = await Engine.create({ voiceDir: options.voice, workers: options.jobs, intraOpThreads: options.threads });
  } catch (err) {
    process.stderr.write(`emomix synth: cannot load the voice ${options.voice}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await serveLines(engine, options.jobs);
    return 0;
  } catch (err) {
    process.stderr.write(`emomix synth: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await engine.close();
  }
}
