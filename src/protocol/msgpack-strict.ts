// Checks that bytes hold exactly one plain MessagePack value before msgpackr
// decodes them. msgpackr always decodes its built-in extensions (record
// definitions, Date, Set, RegExp, Error, typed arrays) whatever the options, and
// offers no switch to refuse them, so the wire format is enforced here: no
// extension types, string map keys only, bounded nesting and size, nothing
// trailing.
import { ErrorCode, ProtocolError } from './errors.js';

interface Frame {
  left: number;
  map: boolean;
  consumed: number;
}

const reject = (why: string): never => {
  throw new ProtocolError(ErrorCode.badMessage, `malformed MessagePack: ${why}`);
};

const isStringToken = (token: number): boolean =>
  (token >= 0xa0 && token <= 0xbf) || (token >= 0xd9 && token <= 0xdb);

export interface MessageShapeLimits {
  maxDepth: number;
  /** Keys and values in all maps and arrays together. */
  maxItems: number;
}

// The largest valid message (a start with 64 weights) holds about 150 items.
// Decoding and validating cost grows with the item count, not the byte count:
// a 1.7 MB map of 150,000 weights held the event loop for half a second.
export const MESSAGE_SHAPE_LIMITS: MessageShapeLimits = { maxDepth: 32, maxItems: 512 };

export function assertPlainMessagePack(bytes: Uint8Array, { maxDepth, maxItems }: MessageShapeLimits = MESSAGE_SHAPE_LIMITS): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let items = 0;
  const stack: Frame[] = [{ left: 1, map: false, consumed: 0 }];

  const need = (n: number): void => {
    if (pos + n > bytes.length) reject('truncated');
  };
  const readLength = (size: 1 | 2 | 4): number => {
    need(size);
    const n = size === 1 ? view.getUint8(pos) : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += size;
    return n;
  };
  const skip = (n: number): void => {
    need(n);
    pos += n;
  };
  const open = (children: number, map: boolean): void => {
    // Every child takes at least one byte, so a count past the end is a lie.
    if (children > bytes.length - pos) reject('truncated');
    if (stack.length > maxDepth) reject(`nested deeper than ${maxDepth}`);
    items += children;
    if (items > maxItems) reject(`more than ${maxItems} keys and values`);
    stack.push({ left: children, map, consumed: 0 });
  };

  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.left === 0) {
      stack.pop();
      continue;
    }
    frame.left--;
    const isKey = frame.map && frame.consumed++ % 2 === 0;
    need(1);
    const token = bytes[pos++]!;
    if (isKey && !isStringToken(token)) reject('map keys must be strings');

    if (token <= 0x7f || token >= 0xe0) continue; // fixints
    if (token <= 0x8f) open((token & 0x0f) * 2, true);
    else if (token <= 0x9f) open(token & 0x0f, false);
    else if (token <= 0xbf) skip(token & 0x1f);
    else {
      switch (token) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc4: case 0xd9: skip(readLength(1)); break;
        case 0xc5: case 0xda: skip(readLength(2)); break;
        case 0xc6: case 0xdb: skip(readLength(4)); break;
        case 0xca: skip(4); break;
        case 0xcb: skip(8); break;
        case 0xcc: case 0xd0: skip(1); break;
        case 0xcd: case 0xd1: skip(2); break;
        case 0xce: case 0xd2: skip(4); break;
        case 0xcf: case 0xd3: skip(8); break;
        case 0xdc: open(readLength(2), false); break;
        case 0xdd: open(readLength(4), false); break;
        case 0xde: open(readLength(2) * 2, true); break;
        case 0xdf: open(readLength(4) * 2, true); break;
        case 0xc1: reject('reserved byte 0xc1'); break;
        default: reject('extension types are not accepted'); // 0xc7-0xc9, 0xd4-0xd8
      }
    }
  }
  if (pos !== bytes.length) reject('trailing bytes after the message');
}
