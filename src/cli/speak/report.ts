// What the command-line clients tell the user, on stderr (stdout may carry
// audio): phrases with --verbose, a progress line while a long input is
// spoken (on a terminal only), and a closing summary with first-audio
// latency and real-time factors.
import type { Phrase, Progress, SpeakEvents, SpeakResult } from './speak.js';

const PROGRESS_INTERVAL_MS = 250;

export interface ReportOptions {
  verbose: boolean;
  quiet: boolean;
  /** Show the progress line: stderr is a terminal. */
  progress: boolean;
  /** Characters of the whole input, when known in advance. */
  totalChars?: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** `happy=0.7,sad=0.3`, weights to 2 decimals. */
const mixText = (weights: Record<string, number>): string =>
  Object.entries(weights)
    .map(([name, w]) => `${name}=${Number(w.toFixed(2))}`)
    .join(',');

export class Reporter implements SpeakEvents {
  private lastProgress = 0;
  private progressShown = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: ReportOptions,
  ) {}

  phrase(p: Phrase): void {
    if (!this.options.verbose) return;
    // Where each mix starts: "from word 6 (but) sad=1"; a ramp shows where it goes.
    const mixes = p.segments.map((s) => {
      const word = p.words[s.word]?.word;
      return `from word ${s.word}${word ? ` (${word})` : ''} ${mixText(s.ramp ? s.ramp.to : s.emotion)}`;
    });
    this.line(`phrase ${p.id} [${seconds(p.startMs)} +${seconds(p.durationMs)}] ${JSON.stringify(p.text)} · ${mixes.join(' · ')}`);
  }

  progress(p: Progress): void {
    if (!this.options.progress || this.options.quiet) return;
    const now = performance.now();
    if (now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const chars = this.options.totalChars ? `${p.chars}/${this.options.totalChars}` : String(p.chars);
    this.out.write(`\r\x1b[K${chars} characters sent · ${p.phrases} phrases · ${(p.audioMs / 1000).toFixed(1)} s of audio`);
    this.progressShown = true;
  }

  warning(message: string): void {
    this.line(`warning: ${message}`);
  }

  summary(result: SpeakResult, destination: string): void {
    if (this.options.quiet) return this.clearProgress();
    const parts = [
      `first audio ${result.firstAudioMs === null ? '—' : `${Math.round(result.firstAudioMs)} ms`}`,
      `${(result.audioMs / 1000).toFixed(2)} s of audio in ${result.phrases} phrase${result.phrases === 1 ? '' : 's'}`,
      `real-time factor ${result.audioMs > 0 ? (result.wallMs / result.audioMs).toFixed(3) : '—'}`,
    ];
    if (result.stats) parts.push(`synthesis ${result.stats.realTimeFactor.toFixed(3)}`);
    this.line(`${parts.join(' · ')} → ${destination}`);
  }

  /** An error, shown even with --quiet. */
  error(message: string): void {
    this.clearProgress();
    this.out.write(`${message}\n`);
  }

  private line(text: string): void {
    if (this.options.quiet) return;
    this.clearProgress();
    this.out.write(`${text}\n`);
  }

  private clearProgress(): void {
    if (!this.progressShown) return;
    this.out.write('\r\x1b[K');
    this.progressShown = false;
  }
}
