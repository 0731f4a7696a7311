// What a client is told when the engine fails a phrase or a clip: the engine's code and
// a sentence of ours. The engine's own message names files, graphs and onnxruntime
// internals; it goes to the log (once per kind, see RepeatLog), never to the client.
import { SynthesisError, type SynthesisErrorCode } from '../pipeline/synthesis/index.js';
import { ErrorCode, ProtocolError } from '../protocol/index.js';
import type { RepeatLog } from './repeat-log.js';

const PUBLIC_MESSAGES: Record<SynthesisErrorCode, string> = {
  EMOTION_UNKNOWN: 'the emotion mix names an emotion the voice does not have',
  SPEAKER_UNKNOWN: 'the request names a speaker the voice does not have',
  WEIGHT_INVALID: 'the emotion weights cannot be used',
  EMBEDDING_INVALID: 'an emotion embedding cannot be used',
  REQUEST_INVALID: 'the synthesis request cannot be used',
  TEXT_EMPTY: 'there is nothing to pronounce',
  PHRASE_TOO_LONG: 'the phrase would take longer than the per-phrase audio limit',
  WAV_INVALID: 'the clip cannot be used',
  WORKER_DIED: 'the inference worker stopped; the next phrase goes to a new one',
  INFERENCE_FAILED: 'inference failed; the server log has the details',
  ENGINE_CLOSED: 'the voice is closing',
};

/** "CODE: sentence" for a SynthesisError, a fixed sentence for anything else. */
export function publicSynthesisMessage(error: unknown): string {
  return error instanceof SynthesisError ? `${error.code}: ${PUBLIC_MESSAGES[error.code]}` : 'synthesis failed';
}

/** The engine refused the clip itself (WAV_INVALID): its message is written for the client. */
function isClipRefusal(error: unknown): error is SynthesisError {
  return error instanceof SynthesisError && error.code === 'WAV_INVALID';
}

/** What `bad_reference` says: why the clip was refused, or that its analysis failed. */
export function referenceMessage(error: unknown): string {
  return isClipRefusal(error) ? error.message : publicSynthesisMessage(error);
}

/** A clip that could not be used as the `bad_reference` error; a failed analysis is logged with `fields`, once per kind. */
export function referenceFailure(error: unknown, failures: RepeatLog, fields: Record<string, unknown>): ProtocolError {
  if (!isClipRefusal(error)) failures.warn(failureKey(error), { err: error, ...fields }, 'reference analysis failed');
  return new ProtocolError(ErrorCode.badReference, `audio: ${referenceMessage(error)}`, 'audio');
}

/** A failed synthesis as the `synthesis_failed` error the client gets; logged as `msg` with `fields`, once per kind. */
export function synthesisFailure(error: unknown, failures: RepeatLog, fields: Record<string, unknown>, msg: string): ProtocolError {
  failures.warn(failureKey(error), { err: error, ...fields }, msg);
  return new ProtocolError(ErrorCode.synthesisFailed, publicSynthesisMessage(error));
}

/** A failure's log key: identical failures (same code and engine message) share one. */
export function failureKey(error: unknown): string {
  return error instanceof SynthesisError ? `${error.code}: ${error.message}` : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
