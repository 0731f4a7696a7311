// The wire format at the boundary: strict MessagePack, message validation,
// weight normalisation, and server messages any MessagePack library can read.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage, ProtocolError, parseClientMessage, type ServerMessage } from '../src/protocol/index.js';
import { assertPlainMessagePack, MESSAGE_SHAPE_LIMITS } from '../src/protocol/msgpack-strict.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('assertPlainMessagePack', () => {
  it('accepts every plain type, nested', () => {
    const value = {
      s: 'text',
      long: 'x'.repeat(70_000),
      n: [0, 1, -1, 127, 128, -33, 65_535, 2 ** 31, -(2 ** 31), 1.5, 2 ** 53],
      b: Buffer.from([1, 2, 3]),
      big: Buffer.alloc(70_000),
      t: true,
      f: false,
      z: null,
      deep: { a: { b: { c: [[[]]] } } },
      many: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])),
      list: Array.from({ length: 70_000 }, () => 0),
    };
    // The list takes the 32-bit array form, and more items than a message may hold.
    expect(() => assertPlainMessagePack(packr.pack(value), { ...MESSAGE_SHAPE_LIMITS, maxItems: Infinity })).not.toThrow();
    const { list: _, ...withinLimits } = value;
    expect(decodeFrame(packr.pack(withinLimits))).toEqual(withinLimits);
  });

  it.each([
    ['fixext 1', 'd4 01 00'],
    ['fixext 4 (timestamp)', 'd6 ff 00000000'],
    ['fixext 8', 'd7 ff 0000000000000000'],
    ['fixext 16', 'd8 01' + '00'.repeat(16)],
    ['ext 8', 'c7 01 05 00'],
    ['ext 16', 'c8 0001 05 00'],
    ['ext 32', 'c9 00000001 05 00'],
    ['msgpackr record', 'd4 72 40'],
    ['extension inside a map', '81 a1 61 d6 ff 00000000'],
    ['reserved 0xc1', 'c1'],
    ['integer key', '81 01 01'],
    ['array key', '81 90 01'],
    ['truncated string', 'a5 6162'],
    ['truncated map', '82 a1 61 01'],
    ['array claiming more elements than bytes', 'dd ffffffff 00'],
    ['map claiming more pairs than bytes', 'df 7fffffff a161 00'],
    ['truncated float', 'cb 0000'],
    ['trailing bytes', '01 02'],
    ['empty', ''],
  ])('rejects %s', (_, bytes) => {
    expect(codeOf(() => assertPlainMessagePack(hex(bytes)))).toBe('bad_message');
  });

  it('bounds nesting depth', () => {
    const nested = (depth: number) => Buffer.concat([Buffer.alloc(depth, 0x91), hex('00')]);
    expect(() => assertPlainMessagePack(nested(32))).not.toThrow();
    expect(codeOf(() => assertPlainMessagePack(nested(33)))).toBe('bad_message');
    expect(codeOf(() => decodeFrame(nested(100_000)))).toBe('bad_message');
  });

  it('bounds the keys and values a message holds, before decoding any of them', () => {
    const { maxItems } = MESSAGE_SHAPE_LIMITS;
    const map = (pairs: number) => packr.pack(Object.fromEntries(Array.from({ length: pairs }, (_, i) => [`k${i}`, i])));
    expect(() => assertPlainMessagePack(map(maxItems / 2))).not.toThrow();
    expect(codeOf(() => assertPlainMessagePack(map(maxItems / 2 + 1)))).toBe('bad_message');
    expect(codeOf(() => assertPlainMessagePack(packr.pack({ type: 'flush', junk: [Array(maxItems).fill(0)] })))).toBe('bad_message');
    // 150,000 weights: refused from the header alone, where validating them took half a second.
    const flood = new Packr({ useRecords: false, variableMapSize: true }).pack({ type: 'emotion', weights: Object.fromEntries(Array.from({ length: 150_000 }, (_, i) => [`e${i}`, 1])) });
    expect(codeOf(() => decodeFrame(flood))).toBe('bad_message');
    // The last value made unreadable: a scan that walked the entries would stop there with
    // another reason, so the count in the map's header is what refused it.
    const poisoned = Uint8Array.from(flood);
    poisoned[poisoned.length - 1] = 0xc1;
    expect(() => decodeFrame(poisoned)).toThrow(`more than ${maxItems} keys and values`);
  });
});

describe('parseClientMessage', () => {
  it('accepts each message type and drops unknown fields', () => {
    const audio = Buffer.from('RIFF');
    const messages = [
      { type: 'start' },
      { type: 'start', voice: 'v', emotion: { happy: 1 }, steps: 10, temperature: 1.2, speed: 1.5, format: 'pcm16', seed: 0, pacing: 'realtime' },
      { type: 'text', text: '' },
      { type: 'emotion', weights: { sad: 0.2, happy: 0 }, rampMs: 500 },
      { type: 'flush' },
      { type: 'cancel' },
      { type: 'end' },
      { type: 'reference', name: 'my-voice_2', audio },
    ];
    for (const m of messages) expect(parseClientMessage(decodeFrame(packr.pack(m)))).toEqual(m);
    expect(parseClientMessage({ type: 'flush', future: 1 })).toEqual({ type: 'flush' });
  });

  it('reads integers of any width as numbers: int64 and uint64 included', () => {
    // {type: "start", steps: 4 as int64, seed: 7 as uint64}: what an encoder of 64-bit fields writes.
    const bytes = hex('83 a4 74797065 a5 7374617274 a5 7374657073 d3 0000000000000004 a4 73656564 cf 0000000000000007');
    expect(parseClientMessage(decodeFrame(bytes))).toEqual({ type: 'start', steps: 4, seed: 7 });
    // Past 2^53 an integer is no longer exact: refused, as every unsafe integer is.
    const huge = hex('82 a4 74797065 a5 7374617274 a4 73656564 cf ffffffffffffffff');
    expect(codeOf(() => parseClientMessage(decodeFrame(huge)))).toBe('invalid_field');
  });

  it('never quotes more than a short prefix of what a client sent', () => {
    const long = 'x'.repeat(100_000);
    for (const message of [{ type: long }, { type: { a: long } }, { type: 'emotion', weights: { [long]: 1 } }]) {
      let error: ProtocolError | undefined;
      try {
        parseClientMessage(decodeFrame(packr.pack(message)));
      } catch (e) {
        error = e as ProtocolError;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error!.message.length + (error!.field?.length ?? 0)).toBeLessThan(300);
    }
  });

  it.each([
    [[1], 'bad_message'],
    ['start', 'bad_message'],
    [null, 'bad_message'],
    [Buffer.from('x'), 'bad_message'],
    [{}, 'unknown_type'],
    [{ type: 'toString' }, 'unknown_type'],
    [{ type: '__proto__' }, 'unknown_type'],
    [{ type: 'start', steps: 0 }, 'invalid_field'],
    [{ type: 'start', steps: 1001 }, 'invalid_field'],
    [{ type: 'start', temperature: 0 }, 'invalid_field'],
    [{ type: 'start', seed: 2 ** 32 }, 'invalid_field'],
    [{ type: 'start', voice: '' }, 'invalid_field'],
    [{ type: 'start', emotion: {} }, 'invalid_weights'],
    [{ type: 'start', emotion: { a: -0.1 } }, 'invalid_weights'],
    [{ type: 'start', emotion: { a: NaN } }, 'invalid_weights'],
    [{ type: 'start', emotion: { a: '1' } }, 'invalid_weights'],
    [{ type: 'start', emotion: { '': 1 } }, 'invalid_weights'],
    [{ type: 'start', emotion: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`e${i}`, 1])) }, 'invalid_weights'],
    [{ type: 'emotion' }, 'invalid_weights'],
    [{ type: 'emotion', weights: { a: 1 }, rampMs: Infinity }, 'invalid_field'],
    [{ type: 'reference', name: 'x' }, 'invalid_field'],
    [{ type: 'reference', name: 'a/b', audio: Buffer.alloc(1) }, 'invalid_field'],
  ])('rejects %j with %s', (value, code) => {
    expect(codeOf(() => parseClientMessage(value))).toBe(code);
  });

  it('names the offending field', () => {
    try {
      parseClientMessage({ type: 'emotion', weights: { happy: 1, sad: -2 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid_weights', field: 'weights.sad' });
    }
  });
});

describe('encodeMessage', () => {
  const samples: ServerMessage[] = [
    {
      type: 'ready',
      protocol: 1,
      session: 's',
      instance: 'i',
      voice: 'v',
      speaker: 'default',
      emotions: ['neutral'],
      neutral: 'neutral',
      sampleRate: 48_000,
      frameMs: 20,
      format: 'opus',
      steps: 4,
      pacing: 'asap',
      preSkip: 312,
      limits: { maxMessageBytes: 1, maxBufferedText: 2, maxSteps: 3 },
    },
    { type: 'phrase', id: 1, text: 't', startMs: 0, durationMs: 12.5, words: [{ word: 't', startMs: 0, endMs: 12.5, emotion: { neutral: 1 } }], emotion: { neutral: 1 }, ramp: undefined, segments: [{ word: 0, startMs: 0, emotion: { neutral: 1 } }] },
    { type: 'audio', phrase: 1, seq: 0, packets: [new Uint8Array([1, 2]), Buffer.from([3])] },
    { type: 'cancelled', phrases: [], text: '' },
    { type: 'done', stats: { phrases: 1, failedPhrases: 0, cancelledPhrases: 0, audioMs: 1, packets: 1, synthesisMs: 1, realTimeFactor: 1, firstAudioMs: null } },
    { type: 'error', code: 'bad_message', message: 'm', fatal: false, field: undefined },
  ];

  it.each(samples.map((m) => [m.type, m]))('writes %s as plain MessagePack without undefined fields', (_, message) => {
    const bytes = encodeMessage(message as ServerMessage);
    expect(() => assertPlainMessagePack(bytes)).not.toThrow();
    const decoded = packr.unpack(bytes) as Record<string, unknown>;
    expect(Object.values(decoded)).not.toContain(undefined);
    expect(decoded.type).toBe((message as ServerMessage).type);
  });

  it('writes audio packets as MessagePack bin', () => {
    const bytes = encodeMessage({ type: 'audio', phrase: 1, seq: 0, packets: [new Uint8Array([7, 8, 9])] });
    expect(bytes.includes(hex('c4 03 070809'))).toBe(true);
  });
});
