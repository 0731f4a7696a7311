// A 16-bit mono WAV file written while the audio arrives. Until the end its
// header claims the largest size, as streaming recorders do, so the file
// plays while it grows; the end trims the final frame's padding and writes
// the true sizes.
import { open } from 'node:fs/promises';
import { wavHeader, WAV_HEADER_BYTES } from '../../stream/wav.js';
import { OUTPUT_SAMPLE_RATE } from '../../protocol/index.js';
import type { PcmSink } from './sink.js';

const UNKNOWN_SIZE = 0xffff_ffff - 36;

export async function openWavFile(path: string): Promise<PcmSink> {
  const file = await open(path, 'w');
  await file.write(wavHeader(OUTPUT_SAMPLE_RATE, UNKNOWN_SIZE), 0, WAV_HEADER_BYTES, 0);
  let bytes = 0;
  return {
    kind: 'pcm',
    async write(pcm) {
      await file.write(pcm, 0, pcm.length, WAV_HEADER_BYTES + bytes);
      bytes += pcm.length;
    },
    async close(speechSamples) {
      const kept = Math.min(bytes, speechSamples * 2);
      await file.truncate(WAV_HEADER_BYTES + kept);
      await file.write(wavHeader(OUTPUT_SAMPLE_RATE, kept), 0, WAV_HEADER_BYTES, 0);
      await file.close();
    },
  };
}
