// Reads Ogg files back for the tests (RFC 3533): pages, their CRCs and packets.
import { expect } from 'vitest';

export interface Page {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  crcOk: boolean;
  segments: number[];
  body: Uint8Array;
}

/** Ogg CRC-32 (polynomial 0x04c11db7, no reflection, zero init), written independently of the muxer's. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ b) & 0xff] as number)) >>> 0;
  return crc;
}

/** Splits an Ogg file into pages, checking the capture pattern and version of each. */
export function parsePages(file: Uint8Array): Page[] {
  const pages: Page[] = [];
  let pos = 0;
  while (pos < file.length) {
    const view = new DataView(file.buffer, file.byteOffset + pos);
    expect(String.fromCharCode(...file.subarray(pos, pos + 4))).toBe('OggS');
    expect(file[pos + 4]).toBe(0); // version
    const count = file[pos + 26] as number;
    const segments = Array.from(file.subarray(pos + 27, pos + 27 + count));
    const bodyLength = segments.reduce((n, s) => n + s, 0);
    const end = pos + 27 + count + bodyLength;
    const page = file.slice(pos, end);
    const stored = view.getUint32(22, true);
    new DataView(page.buffer).setUint32(22, 0, true);
    pages.push({
      flags: file[pos + 5] as number,
      granule: view.getBigInt64(6, true),
      serial: view.getUint32(14, true),
      sequence: view.getUint32(18, true),
      crcOk: oggCrc(page) === stored,
      segments,
      body: file.slice(pos + 27 + count, end),
    });
    pos = end;
  }
  return pages;
}

/** Rebuilds packets from segment tables (a 255 segment continues the packet), with the page each ends on. */
export function packetsOf(pages: Page[]): { data: Uint8Array; page: number }[] {
  const packets: { data: Uint8Array; page: number }[] = [];
  let pending: number[] = [];
  pages.forEach((page, index) => {
    let offset = 0;
    for (const size of page.segments) {
      pending.push(...page.body.subarray(offset, offset + size));
      offset += size;
      if (size < 255) {
        packets.push({ data: Uint8Array.from(pending), page: index });
        pending = [];
      }
    }
  });
  expect(pending).toHaveLength(0);
  return packets;
}
