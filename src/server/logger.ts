// Structured JSON logs (pino). Secrets never reach a log line: the token is
// redacted wherever it could appear, and request URLs are logged without their
// query string (which may carry ?token=).
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'emomix' },
      redact: { paths: ['authToken', 'token', 'authorization', '*.authToken', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}

/** The path of a request URL, without the query string. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
