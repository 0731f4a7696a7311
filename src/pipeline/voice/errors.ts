export type VoiceErrorCode =
  | 'VOICE_FILE_MISSING'
  | 'VOICE_JSON_INVALID'
  | 'VOICE_FORMAT_UNSUPPORTED'
  | 'VOICE_FIELD_INVALID'
  | 'VOICE_SYMBOLS_MISMATCH'
  | 'VOICE_NEUTRAL_MISSING'
  | 'VOICE_EMOTION_UNKNOWN'
  | 'VOICE_EMOTION_DUPLICATE'
  | 'VOICE_CENTROID_DIMENSION'
  | 'VOICE_GRAPH_LOAD_FAILED'
  | 'VOICE_GRAPH_SIGNATURE';

/** A voice folder that cannot be served; the message names the file and, where there is one, the field. */
export class VoiceError extends Error {
  override readonly name = 'VoiceError';

  constructor(
    readonly code: VoiceErrorCode,
    readonly file: string,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}${field === undefined ? '' : ` (${field})`}: ${detail}`);
  }
}
