// An Ogg Opus file written while the audio arrives: the packets the server
// sent, muxed as they come (a page reaches the disk every second of audio).
import { rm } from 'node:fs/promises';
import { FilePathTarget } from 'mediabunny';
import { OggOpusWriter } from '../../stream/ogg.js';
import type { OpusSink } from './sink.js';

export async function openOggFile(path: string, preSkip: number): Promise<OpusSink> {
  const writer = await OggOpusWriter.open(new FilePathTarget(path, { chunked: false }), { preSkip });
  return {
    kind: 'opus',
    async write(packets) {
      for (const packet of packets) await writer.add(packet);
    },
    async close(speechSamples) {
      if (writer.decodedSamples === 0) {
        await writer.cancel();
        await rm(path, { force: true });
        return;
      }
      // The server's encoder never flushes its lookahead (a live stream has no end), so the
      // last pre-skip samples are not in the packets; the file ends where the packets do.
      await writer.finish(Math.min(speechSamples, writer.decodedSamples - preSkip));
    },
  };
}
