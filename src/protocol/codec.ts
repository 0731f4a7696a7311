// One WebSocket binary frame ↔ one plain MessagePack map (no records, no
// extensions), so any standard MessagePack library can talk to the server.
import { Packr, type Options } from 'msgpackr';
import { ErrorCode, ProtocolError } from './errors.js';
import { assertPlainMessagePack } from './msgpack-strict.js';
import type { ClientMessage, ServerMessage } from './messages.js';

// Optional fields left undefined are omitted: msgpackr would otherwise write
// `undefined` as extension 0, which other MessagePack libraries reject.
// (`skipValues` is documented in msgpackr's README but missing from its typings.)
// Integers decode as numbers whatever their width: msgpackr makes a BigInt of
// every int64/uint64, and encoders that write `steps: 4` as int64 are within
// the spec (an integer past 2^53 then fails validation as not a safe integer).
const options: Options & { skipValues: unknown[] } = { useRecords: false, mapsAsObjects: true, skipValues: [undefined], int64AsType: 'number' };
const packr = new Packr(options);

/** One message, either way: the server's replies and a client's requests are written alike. */
export function encodeMessage(message: ServerMessage | ClientMessage): Buffer {
  return packr.pack(message);
}

/** A server's message as a client reads it: the server is trusted, so no shape checks. */
export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  return packr.unpack(bytes) as ServerMessage;
}

/**
 * A frame that opens with `{` and ends with `}`: in MessagePack that is the integer
 * 123 followed by trailing bytes, never a message, so the client most likely sent
 * JSON. Looks at two bytes only, whatever the frame's size.
 */
function looksLikeJson(bytes: Uint8Array): boolean {
  let end = bytes.length - 1;
  while (end > 0 && (bytes[end] === 0x20 || bytes[end] === 0x0a || bytes[end] === 0x0d || bytes[end] === 0x09)) end--;
  return bytes.length >= 2 && bytes[0] === 0x7b && bytes[end] === 0x7d;
}

/** Decodes one frame's bytes; throws ProtocolError('bad_message') for anything not plain MessagePack. */
export function decodeFrame(bytes: Uint8Array): unknown {
  if (looksLikeJson(bytes)) {
    throw new ProtocolError(ErrorCode.badMessage, 'this binary frame holds JSON; each message is a MessagePack map (docs/protocol.md, Transport)');
  }
  assertPlainMessagePack(bytes);
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new ProtocolError(ErrorCode.badMessage, `malformed MessagePack: ${(error as Error).message}`);
  }
}
