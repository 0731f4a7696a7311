// `emomix say`: speaks a text given whole, from the arguments or stdin.
import { text } from 'node:stream/consumers';
import { UsageError } from './args.js';
import { runClient } from './run.js';

export function main(argv: string[]): Promise<number> {
  return runClient('say', argv, async (options) => {
    const whole = options.positionals.length > 0 ? options.positionals.join(' ') : await text(process.stdin);
    if (whole.trim() === '') throw new UsageError('nothing to say: give TEXT or pipe it in');
    return { chunks: [whole], totalChars: whole.length };
  });
}
