/**
 * Float ↔ 16-bit PCM conversion.
 *
 * Scale is 32768 in both directions so that int16 → float → int16 is exact;
 * the price is that +1.0 clips to 32767 (the usual asymmetric convention).
 */

const SCALE = 32768;

/** Float samples in [-1, 1] → Int16Array, rounding to nearest, clipping out-of-range values; NaN becomes 0. */
export function floatToInt16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = Math.round((input[i] as number) * SCALE);
    // NaN fails both comparisons and is stored as 0 by the typed array.
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Int16 samples → float in [-1, 1). */
export function int16ToFloat(input: Int16Array): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = (input[i] as number) / SCALE;
  return out;
}

/**
 * Int16 samples → little-endian bytes. Written through a DataView so the wire
 * format does not depend on the host's byte order.
 */
export function int16ToBytesLE(input: Int16Array): Uint8Array {
  const out = new Uint8Array(input.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < input.length; i++) view.setInt16(i * 2, input[i] as number, true);
  return out;
}

/** Little-endian 16-bit PCM bytes → Int16Array (a trailing odd byte is ignored). */
export function bytesLEToInt16(input: Uint8Array): Int16Array {
  const out = new Int16Array(input.length >> 1);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/** Float samples → 16-bit little-endian PCM bytes (clipping), the raw-PCM wire format. */
export function floatToPcm16LE(input: Float32Array): Uint8Array {
  return int16ToBytesLE(floatToInt16(input));
}
