export type SynthesisErrorCode =
  | 'EMOTION_UNKNOWN'
  | 'SPEAKER_UNKNOWN'
  | 'WEIGHT_INVALID'
  | 'EMBEDDING_INVALID'
  | 'REQUEST_INVALID'
  | 'TEXT_EMPTY'
  | 'PHRASE_TOO_LONG'
  | 'WAV_INVALID'
  | 'WORKER_DIED'
  | 'INFERENCE_FAILED'
  | 'ENGINE_CLOSED';

/** A request the engine refuses, or an inference that failed; `code` says which. */
export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';

  constructor(
    readonly code: SynthesisErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The rejection of a cancelled synthesis: a DOMException named AbortError, carrying the signal's reason. */
export function abortError(signal: AbortSignal): DOMException {
  const error = new DOMException('synthesis was aborted', 'AbortError');
  Object.defineProperty(error, 'cause', { value: signal.reason, enumerable: false });
  return error;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
