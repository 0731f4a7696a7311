// Logs a failure the first time it happens and then once per window with how often it
// came back, instead of a line (and a stack) per occurrence: a client whose every
// phrase fails the same way would otherwise write the log as fast as it can send.
import type { Logger } from './logger.js';

interface Pending {
  repeats: number;
  timer: NodeJS.Timeout;
}

export class RepeatLog {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 60_000,
    /** Distinct failures tracked at once; past that, new ones are logged every time. */
    private readonly maxKeys = 1024,
  ) {}

  /** Logs `msg` at warn for `key` unless the same key was logged within the window. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const seen = this.pending.get(key);
    if (seen) {
      seen.repeats++;
      return;
    }
    this.logger.warn(fields, msg);
    if (this.pending.size >= this.maxKeys) return;
    const entry: Pending = {
      repeats: 0,
      timer: setTimeout(() => {
        this.pending.delete(key);
        if (entry.repeats > 0) this.logger.warn({ failure: key, repeats: entry.repeats, windowMs: this.windowMs }, `${msg} (repeated)`);
      }, this.windowMs).unref(),
    };
    this.pending.set(key, entry);
  }
}
