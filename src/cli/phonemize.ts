// `emomix phonemize`: the front end from the command line. The training recipe
// streams its sentences through `--jsonl`, so training and serving share IDs.
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { phonemize, SYMBOLS } from '../pipeline/frontend/index.js';

const HELP = `usage: emomix phonemize [options] [text…]

  emomix phonemize "some text"   print {"text","ids","symbols","words"} as JSON
  emomix phonemize --jsonl        read lines of text on stdin, write one JSON object per line
  emomix phonemize --symbols      print the symbol table as a JSON array
  emomix phonemize --help         show this help
`;

function record(text: string): string {
  return JSON.stringify({ text, ...phonemize(text) });
}

async function streamLines(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!process.stdout.write(`${record(line)}\n`)) await once(process.stdout, 'drain');
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (argv.includes('--symbols')) {
    process.stdout.write(`${JSON.stringify(SYMBOLS)}\n`);
    return 0;
  }
  if (argv.includes('--jsonl')) {
    await streamLines();
    return 0;
  }
  const unknown = argv.find((a) => a.startsWith('--'));
  if (unknown !== undefined || argv.length === 0) {
    process.stderr.write(unknown !== undefined ? `unknown option ${unknown}\n${HELP}` : HELP);
    return 2;
  }
  process.stdout.write(`${record(argv.join(' '))}\n`);
  return 0;
}
