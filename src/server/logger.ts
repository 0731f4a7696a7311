// Structured JSON logs (pino). Secrets never reach a log line: the token is
// redacted wherever it could appear, and request URLs are logged without their
// query string (which may carry ?token=).
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination: DestinationStream = stdout()): Logger {
  return pino(
    {
      level,
      base: { service: 'emomix' },
      redact: { paths: ['authToken', 'token', 'authorization', '*.authToken', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * Standard output, written as each line is logged, that the server outlives:
 * lines that cannot be written (the disk under a redirected log is full) are
 * held, up to a megabyte and then dropped, and tried again with the next line,
 * and serving goes on. pino's default destination rethrows the write error,
 * and its exit handler then retries the flush forever: a process that holds
 * its port and answers nothing.
 */
function stdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: true, maxLength: 2 ** 20 });
  stream.on('error', () => undefined);
  return stream;
}

/** The path of a request URL, without the query string. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
