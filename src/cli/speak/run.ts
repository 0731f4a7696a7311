// The body of `emomix say` and `emomix stream`: options, sinks, the session,
// the report and the exit status. The two commands differ only in where the
// text comes from.
import { basename } from 'node:path';
import { commandOptions } from '../command-options.js';
import { helpText, parseClientArgs, UsageError, type ClientOptions, type Command } from './args.js';
import { openOggFile } from './ogg-file.js';
import { findPlayer, playerSink, stdoutSink, type Player } from './pcm-pipe.js';
import { Reporter } from './report.js';
import type { AudioSink } from './sink.js';
import { speak, type Ready } from './speak.js';
import { openWavFile } from './wav-file.js';

export interface TextSource {
  chunks: AsyncIterable<string> | Iterable<string>;
  /** Length of the whole text, when known before it is sent. */
  totalChars?: number;
}

const isOgg = (out: string | undefined): boolean => out !== undefined && /\.(ogg|opus)$/i.test(out);
// PCM over the wire when a file or stdout takes it as it is (lossless); otherwise Opus, a
// twentieth of the bytes, decoded here for a player.
const wireFormat = (out: string | undefined): 'opus' | 'pcm16' => (out === undefined || isOgg(out) ? 'opus' : 'pcm16');

function openSinks(options: ClientOptions, player: Player | undefined): (ready: Ready) => Promise<AudioSink[]> {
  return async (ready) => {
    const sinks: AudioSink[] = [];
    const { out } = options;
    if (out === '-') sinks.push(stdoutSink());
    else if (isOgg(out)) sinks.push(await openOggFile(out!, ready.preSkip ?? 0));
    else if (out !== undefined) sinks.push(await openWavFile(out));
    if (player) sinks.push(playerSink(player));
    return sinks;
  };
}

export async function runClient(command: Command, argv: string[], text: (options: ClientOptions) => Promise<TextSource>): Promise<number> {
  const fail = (message: string, status: number): number => {
    process.stderr.write(`emomix ${command}: ${message}\n${status === 2 ? `(see emomix ${command} --help)\n` : ''}`);
    return status;
  };
  const parsed = commandOptions(command, helpText(command), () => parseClientArgs(argv, process.env), (error) => error instanceof UsageError);
  if ('exit' in parsed) return parsed.exit;
  const { options } = parsed;
  const player = options.play ? findPlayer() : undefined;
  if (options.play && !player) return fail('--play: neither aplay nor play is on PATH; try --out - and a player of your own', 2);
  let source: TextSource;
  try {
    source = await text(options);
  } catch (error) {
    if (error instanceof UsageError) return fail(error.message, 2);
    throw error;
  }

  const reporter = new Reporter(process.stderr, {
    verbose: options.verbose,
    quiet: options.quiet,
    progress: process.stderr.isTTY === true,
    ...(source.totalChars !== undefined ? { totalChars: source.totalChars } : {}),
  });
  // Ctrl-C stops the speech but keeps what arrived (files are closed properly); a second one quits.
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    const result = await speak({
      url: options.url,
      token: options.token,
      start: {
        format: wireFormat(options.out),
        ...(options.voice !== undefined ? { voice: options.voice } : {}),
        ...(options.speaker !== undefined ? { speaker: options.speaker } : {}),
        ...(options.emotion !== undefined ? { emotion: options.emotion } : {}),
        ...(options.steps !== undefined ? { steps: options.steps } : {}),
        ...(options.speed !== undefined ? { speed: options.speed } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.markup ? { markup: true } : {}),
      },
      text: source.chunks,
      openSinks: openSinks(options, player),
      events: reporter,
      signal: interrupt.signal,
    });
    const destination = [options.out === '-' ? 'stdout' : options.out, player && basename(player.command)].filter(Boolean).join(' and ');
    reporter.summary(result, destination);
    if (result.failure) {
      reporter.error(`emomix ${command}: ${result.failure}`);
      return 1;
    }
    return interrupt.signal.aborted ? 130 : 0;
  } catch (error) {
    reporter.error(`emomix ${command}: ${(error as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
