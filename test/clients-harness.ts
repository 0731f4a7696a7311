// Shared by the client tests: running a client process, reading the phrases it
// reports, and decoding the files it writes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource, EncodedPacketSink, Input, OGG } from 'mediabunny';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { createOpusDecoder } from '../src/stream/opus.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A scratch directory for the client's output files, removed after the test file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface Spawned {
  /** Resolves once stderr has matched `pattern`. */
  waitForStderr(pattern: RegExp): Promise<void>;
  stdin: NodeJS.WritableStream;
  done: Promise<Run>;
}

/** Starts a process in the repository root. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
  const stdout: Buffer[] = [];
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of watchers.filter((w) => w.pattern.test(stderr))) {
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(stdout), stderr }));
  });
  return {
    stdin: child.stdin,
    done,
    waitForStderr: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stderr)) return resolve();
        watchers.push({ pattern, resolve });
        done.then(() => reject(new Error(`exited before stderr matched ${pattern}:\n${stderr}`)));
      }),
  };
}

/** Runs a process to completion with `input` on stdin. */
export function run(command: string, args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const p = start(command, args, env);
  p.stdin.end(input);
  return p.done;
}

/** `emomix <args>` from the TypeScript sources. */
export function emomix(args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], input, env);
}

/** `emomix <args>` for the subcommands that print text rather than audio. */
export async function emomixText(args: string[], input = ''): Promise<Omit<Run, 'stdout'> & { stdout: string }> {
  const { stdout, ...rest } = await emomix(args, input);
  return { ...rest, stdout: stdout.toString('utf8') };
}

export interface ReportedPhrase {
  id: number;
  startMs: number;
  durationMs: number;
  text: string;
  /** The CLI's --verbose: where each emotion mix starts, `from word 6 (but) sad=1`. */
  mixes: string[];
}

/** The phrase lines the clients print: `phrase 2 [0.540 s +0.440 s] "text"`, then ` · ` and the mixes for the CLI. */
export function reportedPhrases(stderr: string): ReportedPhrase[] {
  return [...stderr.matchAll(/^phrase (\d+) \[([\d.]+) s \+([\d.]+) s\] ("(?:[^"\\]|\\.)*")(?: · (.*))?$/gm)].map((m) => ({
    id: Number(m[1]),
    startMs: Number(m[2]) * 1000,
    durationMs: Number(m[3]) * 1000,
    text: JSON.parse(m[4]!) as string,
    mixes: m[5]?.split(' · ') ?? [],
  }));
}

/** Where the reported speech ends, in 48 kHz samples (the printed times are rounded to 1 ms). */
export function speechEnd(phrases: ReportedPhrase[]): number {
  return Math.max(...phrases.map((p) => ((p.startMs + p.durationMs) * 48_000) / 1000));
}

export const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

export interface OggOpusFile {
  /** Duration a player shows: final granule minus pre-skip, in seconds. */
  duration: number;
  preSkip: number;
  /** Samples the packets decode to with libopus (pre-skip included). */
  decoded: Int16Array;
}

/** Demuxes an Ogg Opus file with mediabunny and decodes its packets with @evan/opus. */
export async function readOggOpus(bytes: Uint8Array): Promise<OggOpusFile> {
  const input = new Input({ source: new BufferSource(bytes), formats: [OGG] });
  const track = await input.getPrimaryAudioTrack();
  if (!track || track.codec !== 'opus' || track.numberOfChannels !== 1) throw new Error('not a mono Ogg Opus file');
  const head = (await track.getDecoderConfig())?.description as Uint8Array;
  const preSkip = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint16(10, true);
  const decoder = createOpusDecoder();
  const parts: Int16Array[] = [];
  for await (const packet of new EncodedPacketSink(track).packets()) parts.push(decoder.decode(packet.data));
  const decoded = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (decoded.set(p, offset), offset + p.length), 0);
  return { duration: await input.computeDuration(), preSkip, decoded };
}

export function rms(x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, x.length));
}
