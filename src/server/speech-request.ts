// What every HTTP speech route does around its synthesis: a slot of the session
// limit for the time it runs, an abort when the client goes, and a synthesis
// failure answered as `synthesis_failed`.
import type { ServerResponse } from 'node:http';
import { SynthesisError } from '../pipeline/synthesis/index.js';
import { ErrorCode, ProtocolError } from '../protocol/index.js';
import type { RepeatLog } from './repeat-log.js';
import { synthesisFailure } from './synthesis-failure.js';

export interface SpeechRequestContext {
  /** Takes a slot of the session limit, or returns null when none is free. */
  acquireSlot(): (() => void) | null;
  /** Synthesis failures, logged once per kind and window. */
  failures: RepeatLog;
}

/** Runs `synthesize` in a slot; what it throws after the client has gone is dropped (nobody is there to answer). */
export async function inSpeechSlot(ctx: SpeechRequestContext, route: string, res: ServerResponse, synthesize: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const release = ctx.acquireSlot();
  if (!release) throw new ProtocolError(ErrorCode.serverBusy, 'too many sessions; try again later');
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  try {
    await synthesize(abort.signal);
  } catch (error) {
    if (abort.signal.aborted) return;
    if (error instanceof SynthesisError) throw synthesisFailure(error, ctx.failures, { route }, 'request synthesis failed');
    throw error;
  } finally {
    release();
  }
}
