// `emomix say`: speaks a text given whole, from the arguments or stdin.
import { text } from 'node:stream/consumers';
import { UsageError } from './speak/args.js';
import { runClient } from './speak/run.js';

export function main(argv: string[]): Promise<number> {
  return runClient('say', argv, async (options) => {
    // Waiting for a terminal's end of input would look like a hang.
    if (options.positionals.length === 0 && process.stdin.isTTY) throw new UsageError('nothing to say: give TEXT or pipe it in');
    const whole = options.positionals.length > 0 ? options.positionals.join(' ') : await text(process.stdin);
    if (whole.trim() === '') throw new UsageError('nothing to say: give TEXT or pipe it in');
    return { chunks: [whole], totalChars: whole.length };
  });
}
