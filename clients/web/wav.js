// A reference clip for a custom emotion: any audio file the browser can
// decode, turned into the 16-bit mono WAV the server embeds.

const RATE = 16000;
const MAX_SECONDS = 20;

/**
 * @param {File} file
 * @returns {Promise<Uint8Array>}
 */
export async function clipToWav(file) {
  // Decoding through a 16 kHz context resamples, which keeps a long clip small.
  const decoded = await new OfflineAudioContext(1, 1, RATE).decodeAudioData(await file.arrayBuffer());
  const length = Math.min(decoded.length, RATE * MAX_SECONDS);
  const mono = new Float32Array(length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const channel = decoded.getChannelData(c);
    for (let i = 0; i < length; i++) mono[i] += channel[i] / decoded.numberOfChannels;
  }
  return encodeWav(mono, RATE);
}

/**
 * @param {Float32Array} samples
 * @param {number} rate
 */
function encodeWav(samples, rate) {
  const out = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(out.buffer);
  const ascii = (/** @type {number} */ at, /** @type {string} */ s) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => view.setInt16(44 + i * 2, Math.max(-32768, Math.min(32767, Math.round(s * 32768))), true));
  return out;
}
