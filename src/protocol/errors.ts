// Stable error codes and WebSocket close codes of protocol v1, and the one
// catalogue that says how each code is answered: its HTTP status and, when it
// ends a session, its close code. Clients branch on these strings, so they
// never change meaning; docs/protocol.md lists them.

export const ErrorCode = {
  badMessage: 'bad_message',
  unknownType: 'unknown_type',
  invalidField: 'invalid_field',
  invalidWeights: 'invalid_weights',
  notStarted: 'not_started',
  alreadyStarted: 'already_started',
  ended: 'ended',
  unknownVoice: 'unknown_voice',
  unknownSpeaker: 'unknown_speaker',
  unknownEmotion: 'unknown_emotion',
  textTooLong: 'text_too_long',
  badReference: 'bad_reference',
  badMarkup: 'bad_markup',
  synthesisFailed: 'synthesis_failed',
  unauthorized: 'unauthorized',
  forbiddenOrigin: 'forbidden_origin',
  serverBusy: 'server_busy',
  idleTimeout: 'idle_timeout',
  shuttingDown: 'shutting_down',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  upgradeRequired: 'upgrade_required',
  tooLarge: 'too_large',
  audioTooLong: 'audio_too_long',
  nothingToSay: 'nothing_to_say',
  rateLimited: 'rate_limited',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  messageTooBig: 1009,
  internal: 4500,
  unauthorized: 4401,
  forbiddenOrigin: 4403,
  idleTimeout: 4408,
  rateLimited: 4429,
  serverBusy: 4503,
} as const;

export interface ErrorEntry {
  /** The HTTP status of a response with this code. */
  status: number;
  /** The close code when the error ends a WebSocket session; absent: never fatal. */
  close?: number;
  /** The message when the occasion adds nothing to the code. */
  message?: string;
}

/**
 * Every code's HTTP status and close code. Codes that only a WebSocket session
 * sends answer 400 should they ever reach HTTP (docs/protocol.md leaves their
 * status blank).
 */
export const ERRORS: Readonly<Record<ErrorCode, ErrorEntry>> = {
  bad_message: { status: 400 },
  unknown_type: { status: 400 },
  invalid_field: { status: 400 },
  invalid_weights: { status: 400 },
  not_started: { status: 400 },
  already_started: { status: 400 },
  ended: { status: 400 },
  unknown_voice: { status: 400 },
  unknown_speaker: { status: 400 },
  unknown_emotion: { status: 400 },
  text_too_long: { status: 400 },
  bad_reference: { status: 400 },
  bad_markup: { status: 400 },
  synthesis_failed: { status: 500 },
  unauthorized: { status: 401, close: CloseCode.unauthorized, message: 'a valid bearer token is required' },
  forbidden_origin: { status: 403, close: CloseCode.forbiddenOrigin, message: 'this Origin is not allowed' },
  server_busy: { status: 503, close: CloseCode.serverBusy },
  idle_timeout: { status: 400, close: CloseCode.idleTimeout },
  shutting_down: { status: 503, close: CloseCode.goingAway, message: 'the server is shutting down' },
  not_found: { status: 404 },
  method_not_allowed: { status: 405 },
  upgrade_required: { status: 426 },
  too_large: { status: 413 },
  audio_too_long: { status: 413 },
  nothing_to_say: { status: 422 },
  rate_limited: { status: 400, close: CloseCode.rateLimited },
  internal: { status: 500, close: CloseCode.internal, message: 'internal error' },
};

/** An input the server rejects; `field` names the offending field when there is one. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message ?? code,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The close code of a session this error ends; a code that is never fatal closes as `internal` (a bug). */
  get closeCode(): number {
    return ERRORS[this.code].close ?? CloseCode.internal;
  }
}
