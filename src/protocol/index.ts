// Protocol v1 (docs/protocol.md), the one module the server and every client
// take the wire from: message shapes and their validation, audio formats and
// rates, error codes with their HTTP statuses and close codes, and the
// MessagePack framing.
export * from './audio.js';
export * from './codec.js';
export * from './errors.js';
export * from './messages.js';
