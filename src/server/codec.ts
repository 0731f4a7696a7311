// One WebSocket binary frame ↔ one plain MessagePack map (no records, no
// extensions), so any standard MessagePack library can talk to the server.
import { Packr, type Options } from 'msgpackr';
import { ErrorCode, ProtocolError } from './errors.js';
import { assertPlainMessagePack } from './msgpack-strict.js';
import type { ServerMessage } from './protocol.js';

// Optional fields left undefined are omitted: msgpackr would otherwise write
// `undefined` as extension 0, which other MessagePack libraries reject.
// (`skipValues` is documented in msgpackr's README but missing from its typings.)
// Integers decode as numbers whatever their width: msgpackr makes a BigInt of
// every int64/uint64, and encoders that write `steps: 4` as int64 are within
// the spec (an integer past 2^53 then fails validation as not a safe integer).
const options: Options & { skipValues: unknown[] } = { useRecords: false, mapsAsObjects: true, skipValues: [undefined], int64AsType: 'number' };
const packr = new Packr(options);

export function encodeMessage(message: ServerMessage): Buffer {
  return packr.pack(message);
}

/** Decodes one frame's bytes; throws ProtocolError('bad_message') for anything not plain MessagePack. */
export function decodeFrame(bytes: Uint8Array): unknown {
  assertPlainMessagePack(bytes);
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new ProtocolError(ErrorCode.badMessage, `malformed MessagePack: ${(error as Error).message}`);
  }
}
