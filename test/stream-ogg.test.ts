import { describe, expect, it } from 'vitest';
import { BufferSource, Input, OGG } from 'mediabunny';
import { writeOggOpus } from '../src/stream/ogg.js';
import { createOpusDecoder, createOpusEncoder, OPUS_FRAME_SAMPLES, type OpusEncoder } from '../src/stream/opus.js';
import { packetsOf, parsePages, type Page } from './ogg-pages.js';

function speechLike(length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => {
    const t = i / 48000;
    return 0.3 * Math.sin(2 * Math.PI * 180 * t) * Math.max(0, Math.sin(2 * Math.PI * 3 * t)) + 0.1 * Math.sin(2 * Math.PI * 1200 * t);
  });
}

async function encodeFile(samples: number, bitrate?: number): Promise<{ file: Uint8Array; packets: Uint8Array[]; encoder: OpusEncoder }> {
  const encoder = createOpusEncoder({ bitrate });
  const packets = [...encoder.encode(speechLike(samples)), ...encoder.flush()];
  const file = await writeOggOpus(packets, { preSkip: encoder.preSkip, sampleCount: encoder.sampleCount });
  return { file, packets, encoder };
}

describe('Ogg Opus writer', () => {
  it('writes valid pages: capture pattern, CRC, flags, sequence, one serial', async () => {
    const { file } = await encodeFile(48000 + 100);
    const pages = parsePages(file);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.every((p) => p.crcOk)).toBe(true);
    expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
    expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
    expect(pages.map((p) => p.flags & 2)).toEqual(pages.map((_, i) => (i === 0 ? 2 : 0))); // BOS first only
    expect(pages.map((p) => p.flags & 4)).toEqual(pages.map((_, i) => (i === pages.length - 1 ? 4 : 0))); // EOS last only
  });

  it('writes OpusHead with the pre-skip and OpusTags, each on its own page with granule 0', async () => {
    const { file, encoder } = await encodeFile(9600);
    const [head, tags] = parsePages(file) as [Page, Page];
    expect(head.segments).toEqual([19]);
    expect(String.fromCharCode(...head.body.subarray(0, 8))).toBe('OpusHead');
    const view = new DataView(head.body.buffer);
    expect(head.body[8]).toBe(1); // version
    expect(head.body[9]).toBe(1); // channels
    expect(view.getUint16(10, true)).toBe(encoder.preSkip);
    expect(view.getUint32(12, true)).toBe(48000);
    expect(view.getInt16(16, true)).toBe(0);
    expect(head.body[18]).toBe(0); // mapping family
    expect(head.granule).toBe(0n);
    expect(String.fromCharCode(...tags.body.subarray(0, 8))).toBe('OpusTags');
    expect(tags.granule).toBe(0n);
  });

  it('carries the packets unchanged, with granules in 48 kHz samples and an end-trimmed final granule', async () => {
    const samples = 5 * 48000 + 123;
    const { file, packets, encoder } = await encodeFile(samples);
    const pages = parsePages(file);
    const audio = packetsOf(pages).slice(2);
    expect(audio.map((p) => p.data)).toEqual(packets);
    // Pages of at most a second.
    expect(pages.length - 2).toBeGreaterThanOrEqual(5);
    for (let i = 2; i < pages.length; i++) {
      const packetsSoFar = audio.filter((p) => p.page <= i).length;
      const expected = i === pages.length - 1 ? encoder.preSkip + samples : packetsSoFar * OPUS_FRAME_SAMPLES;
      expect(pages[i]?.granule).toBe(BigInt(expected));
    }
  });

  it('decodes to the expected sample count after pre-skip and end trim', async () => {
    const samples = 48000 + 100;
    const { file } = await encodeFile(samples);
    const pages = parsePages(file);
    const head = new DataView((pages[0] as Page).body.buffer);
    const preSkip = head.getUint16(10, true);
    const finalGranule = Number((pages.at(-1) as Page).granule);
    const decoder = createOpusDecoder();
    let decoded = 0;
    for (const { data } of packetsOf(pages).slice(2)) decoded += decoder.decode(data).length;
    expect(decoded).toBeGreaterThanOrEqual(finalGranule);
    expect(decoded - finalGranule).toBeLessThan(OPUS_FRAME_SAMPLES);
    expect(finalGranule - preSkip).toBe(samples);
  });

  it('is read back by a demuxer with the right duration', async () => {
    const { file } = await encodeFile(2 * 48000 + 480);
    const input = new Input({ source: new BufferSource(file), formats: [OGG] });
    const track = await input.getPrimaryAudioTrack();
    expect(track?.codec).toBe('opus');
    expect(track?.numberOfChannels).toBe(1);
    expect(await input.computeDuration()).toBeCloseTo(2.01, 6);
  });

  it('splits packets longer than 255 bytes into lacing values', async () => {
    const { file, packets } = await encodeFile(9600, 256_000);
    expect(Math.max(...packets.map((p) => p.length))).toBeGreaterThan(255);
    const pages = parsePages(file);
    expect(pages.some((p) => p.segments.includes(255))).toBe(true);
    expect(packetsOf(pages).slice(2).map((p) => p.data)).toEqual(packets);
  });

  it('defaults to no end trim and records the input sample rate', async () => {
    const encoder = createOpusEncoder();
    const packets = encoder.encode(speechLike(4800));
    const file = await writeOggOpus(packets, { preSkip: encoder.preSkip, inputSampleRate: 22050 });
    const pages = parsePages(file);
    expect(pages.at(-1)?.granule).toBe(BigInt(packets.length * OPUS_FRAME_SAMPLES));
    expect(new DataView((pages[0] as Page).body.buffer).getUint32(12, true)).toBe(22050);
  });

  it('rejects an empty stream and a length the final packet cannot end', async () => {
    const encoder = createOpusEncoder();
    const packets = encoder.encode(speechLike(4800)); // 5 packets, 4800 samples
    await expect(writeOggOpus([], { preSkip: 312 })).rejects.toThrow(RangeError);
    await expect(writeOggOpus(packets, { preSkip: 312, sampleCount: 4800 })).rejects.toThrow(/final packet/);
    await expect(writeOggOpus(packets, { preSkip: 312, sampleCount: 3000 })).rejects.toThrow(/final packet/);
    await expect(writeOggOpus(packets, { preSkip: 70000 })).rejects.toThrow(RangeError);
    await expect(writeOggOpus(packets, { preSkip: 312, sampleCount: 4000 })).resolves.toBeInstanceOf(Uint8Array);
  });
});
