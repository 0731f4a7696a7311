/**
 * G.711 μ-law (telephony's 8 kHz, 8-bit companded audio) through alawmulaw
 * (MIT), a package with a CommonJS entry only: Node hands ES modules its
 * `module.exports` as the default export.
 */
import alawmulaw from 'alawmulaw';
import { floatToInt16 } from './pcm.js';

/** Float samples in [-1, 1] (clipped) → one μ-law byte each. */
export function floatToMulaw(pcm: Float32Array): Uint8Array {
  return alawmulaw.mulaw.encode(floatToInt16(pcm));
}

/** μ-law bytes → 16-bit linear samples. */
export function mulawToInt16(bytes: Uint8Array): Int16Array {
  return alawmulaw.mulaw.decode(bytes);
}
