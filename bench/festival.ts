// The peer: Festival's HTS voice of the same speaker (Debian festival +
// festvox-us-slt-hts), through `text2wave`, on the same sentences.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const VOICE = '(voice_cmu_us_slt_arctic_hts)';

export interface FestivalResult {
  available: true;
  voice: string;
  audioSeconds: number;
  /** Wall time per second of audio, one text2wave process per sentence (start-up and voice loading included each time). */
  perSentence: number;
  /** The same with every sentence in one text2wave process (start-up paid once). */
  oneProcess: number;
}

export type FestivalOutcome = FestivalResult | { available: false; reason: string };

/** Seconds of audio in a RIFF WAV file written by text2wave (16-bit PCM). */
function wavSeconds(wav: Buffer): number {
  let offset = 12;
  let rate = 0;
  let blockAlign = 0;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      rate = wav.readUInt32LE(offset + 12);
      blockAlign = wav.readUInt16LE(offset + 20);
    } else if (id === 'data') {
      return Math.min(size, wav.length - offset - 8) / blockAlign / rate;
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('text2wave wrote a WAV without a data chunk');
}

async function synthesize(dir: string, name: string, text: string): Promise<{ wallMs: number; seconds: number }> {
  const input = join(dir, `${name}.txt`);
  const output = join(dir, `${name}.wav`);
  await writeFile(input, `${text}\n`);
  const started = performance.now();
  await run('text2wave', ['-eval', VOICE, '-o', output, input]);
  const wallMs = performance.now() - started;
  return { wallMs, seconds: wavSeconds(await readFile(output)) };
}

/** Best of `rounds`, as for our own figures. */
async function best(dir: string, name: string, text: string, rounds: number): Promise<{ wallMs: number; seconds: number }> {
  let fastest = { wallMs: Infinity, seconds: 0 };
  for (let r = 0; r < rounds; r++) {
    const result = await synthesize(dir, name, text);
    if (result.wallMs < fastest.wallMs) fastest = result;
  }
  return fastest;
}

/** Runs `work` in a scratch folder when text2wave with the voice runs here; otherwise says why not. */
async function withFestival<T>(work: (dir: string) => Promise<T>): Promise<T | { available: false; reason: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'emomix-festival-'));
  try {
    try {
      await run('text2wave', ['-eval', VOICE, '-o', join(dir, 'probe.wav'), '/dev/null']);
    } catch (error) {
      return { available: false, reason: `text2wave with ${VOICE} failed: ${(error as Error).message.split('\n')[0]}` };
    }
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export type FestivalTextOutcome = { available: true; wallMs: number; audioSeconds: number } | { available: false; reason: string };

/** Festival's wall time for a whole text in one text2wave process (start-up included), best of `rounds`. */
export function measureFestivalText(text: string, rounds: number): Promise<FestivalTextOutcome> {
  return withFestival(async (dir) => {
    const { wallMs, seconds } = await best(dir, 'text', text, rounds);
    return { available: true as const, wallMs, audioSeconds: seconds };
  });
}

export function measureFestival(sentences: string[], rounds: number): Promise<FestivalOutcome> {
  return withFestival(async (dir) => {
    let wallMs = 0;
    let seconds = 0;
    for (const [i, text] of sentences.entries()) {
      const r = await best(dir, `s${i}`, text, rounds);
      wallMs += r.wallMs;
      seconds += r.seconds;
    }
    const all = await best(dir, 'all', sentences.join('\n'), rounds);
    return { available: true as const, voice: 'cmu_us_slt_arctic_hts', audioSeconds: seconds, perSentence: wallMs / 1000 / seconds, oneProcess: all.wallMs / 1000 / all.seconds };
  });
}
