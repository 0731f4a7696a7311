// Stable error codes and WebSocket close codes of protocol v1. Clients branch on
// these strings, so they never change meaning; docs/protocol.md lists them.

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

/** An input the server rejects; `field` names the offending field when there is one. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
