// `emomix stream`: speaks stdin while it is being written.
import { runClient } from './speak/run.js';

export async function main(argv: string[]): Promise<number> {
  process.stdin.setEncoding('utf8');
  try {
    return await runClient('stream', argv, async () => ({ chunks: process.stdin as AsyncIterable<string> }));
  } finally {
    // A session that ended early leaves stdin open, which would keep the process alive.
    process.stdin.destroy();
  }
}
