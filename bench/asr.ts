// Word error rate of speech the benchmark received, with the same recogniser and the same
// references as the recipe's `evaluate` (models/recipe/emomix/evaluation/wer.py): Debian's
// pocketsphinx on 16 kHz audio (SoX converts), against the front end's spoken words.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { phonemize } from '../src/pipeline/frontend/index.js';

const run = promisify(execFile);

/** The words a listener should hear: the front end's spoken form ("twelve dollars" for "$12"). */
export function referenceWords(text: string): string[] {
  return phonemize(text).words.map((w) => w.word);
}

/** Word-level Levenshtein distance: substitutions + deletions + insertions. */
export function wordErrors(reference: readonly string[], hypothesis: readonly string[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j++) {
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[hypothesis.length]!;
}

/** Total errors over total reference words, in percent. */
export function corpusWer(pairs: readonly { reference: readonly string[]; hypothesis: readonly string[] }[]): number {
  const words = pairs.reduce((n, p) => n + p.reference.length, 0);
  if (words === 0) throw new Error('no reference words');
  return (100 * pairs.reduce((n, p) => n + wordErrors(p.reference, p.hypothesis), 0)) / words;
}

/** pocketsphinx's transcript of a WAV file of any rate, lower-cased words. */
export async function transcribe(wav: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'emomix-asr-'));
  try {
    const asrWav = join(dir, 'asr.wav');
    await run('sox', ['-R', wav, '-r', '16000', '-c', '1', '-b', '16', asrWav]);
    const { stdout } = await run('pocketsphinx_continuous', ['-infile', asrWav, '-logfn', '/dev/null'], { maxBuffer: 16 * 2 ** 20 });
    return stdout.toLowerCase().split(/\s+/).filter(Boolean);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
