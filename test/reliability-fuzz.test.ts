// Protocol fuzzing over real sockets. Each generated input carries what the
// protocol says must happen to it — an `error` with a given code and field, or
// acceptance — worked out by a model of docs/protocol.md written here, apart
// from the server's own validation. Sessions run start to end: inputs before
// `start`, in the stream and after `end`, mixed with valid messages; beside
// them, bystander sessions must keep producing the same audio as in a quiet
// server. Seeded: FUZZ_SEED replays a run, FUZZ_ITERATIONS sets its length.
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceRegistry } from '../src/server/voices.js';
import { writeWav } from '../src/stream/wav.js';
import { bytesLEToInt16 } from '../src/stream/pcm.js';
import { expectAccounted, knob, report, Rng, until } from './reliability-harness.js';
import { loadFixtureVoices, pack, startServer, TestClient, type Message, type RunningServer } from './server-harness.js';

const ITERATIONS = knob('FUZZ_ITERATIONS', 10_000);
const SEED = knob('FUZZ_SEED', 20_261_130);
const FUZZERS = 2;
const BYSTANDERS = 2;

const MAX_BUFFERED_TEXT = 100_000;
const MAX_MESSAGE_BYTES = 512 * 1024;
const MAX_STEPS = 100;
const MAX_ITEMS = 512;
const MAX_DEPTH = 32;
const MAX_REPLY_BYTES = 4096;
const EMOTIONS = ['neutral', 'happy', 'sad', 'angry', 'surprise'];
const REFERENCE_NAMES = ['ref0', 'ref1', 'ref2', 'ref3'];
const MAX_WAITING_REFERENCES = 4;

let voices: VoiceRegistry;
let srv: RunningServer;

beforeAll(async () => {
  voices = await loadFixtureVoices();
  srv = await startServer(voices, {
    maxBufferedText: MAX_BUFFERED_TEXT,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxSteps: MAX_STEPS,
    // The fuzzers send thousands of messages at once; the rate limit has its own test.
    maxMessagesPerSecond: 1_000_000,
  });
}, 60_000);

afterAll(async () => {
  await srv?.server.close();
  await voices?.close();
});

// ---------------------------------------------------------------------------
// The model: what the protocol promises for a decoded value.

const wire = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
/** The value as the server decodes it. */
const decoded = (value: unknown): unknown => wire.unpack(pack(value));

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const inRange = (lo: number, hi: number) => (v: unknown) => finite(v) && v >= lo && v <= hi;
const integer = (lo: number, hi: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= lo && (v as number) <= hi;
const text = (min: number, max: number, pattern?: RegExp) => (v: unknown) => typeof v === 'string' && v.length >= min && v.length <= max && (!pattern || pattern.test(v));
const oneOf = (...values: string[]) => (v: unknown) => typeof v === 'string' && values.includes(v);

/** The field a weights map is refused for, or null when it is valid. */
function weightsFault(field: string, v: unknown): string | null {
  if (!isMap(v)) return field;
  const entries = Object.entries(v);
  for (const [key, w] of entries) {
    if (!text(1, 64)(key) || !finite(w) || w < 0) return `${field}.${key.length > 64 ? `${key.slice(0, 64)}…` : key}`;
  }
  if (entries.length > 64 || !entries.some(([, w]) => (w as number) > 0)) return field;
  if (!Number.isFinite(entries.reduce((sum, [, w]) => sum + (w as number), 0))) return field;
  return null;
}

interface FieldSpec {
  type: string;
  field: string;
  required?: boolean;
  valid?: (v: unknown) => boolean;
}

const FIELDS: FieldSpec[] = [
  { type: 'start', field: 'voice', valid: text(1, 128) },
  { type: 'start', field: 'emotion' },
  { type: 'start', field: 'steps', valid: integer(1, 1000) },
  { type: 'start', field: 'temperature', valid: (v) => finite(v) && v >= 0.1 && v <= 10 },
  { type: 'start', field: 'speed', valid: inRange(0.25, 4) },
  { type: 'start', field: 'seed', valid: integer(0, 2 ** 32 - 1) },
  { type: 'start', field: 'format', valid: oneOf('opus', 'pcm16') },
  { type: 'start', field: 'pacing', valid: oneOf('asap', 'realtime') },
  { type: 'text', field: 'text', required: true, valid: (v) => typeof v === 'string' },
  { type: 'emotion', field: 'weights', required: true },
  { type: 'emotion', field: 'rampMs', valid: inRange(0, 600_000) },
  { type: 'reference', field: 'name', required: true, valid: (v) => text(1, 64, /^[A-Za-z0-9_-]+$/)(v) && v !== '__proto__' },
  { type: 'reference', field: 'audio', required: true, valid: (v) => v instanceof Uint8Array },
];
const TYPES = ['start', 'text', 'emotion', 'flush', 'cancel', 'end', 'reference'];

type Rejection = { codes: readonly string[]; field?: string | null };
/** Any field, or none. */
const ANY = null;

/** The schema's verdict on a decoded map with a known type: null when valid. */
function schemaFault(message: Record<string, unknown>): Rejection | null {
  for (const spec of FIELDS.filter((f) => f.type === message.type)) {
    const present = Object.hasOwn(message, spec.field);
    const value = message[spec.field];
    if (!present) {
      if (spec.required) return spec.field === 'weights' ? { codes: ['invalid_weights'], field: 'weights' } : { codes: ['invalid_field'], field: spec.field };
      continue;
    }
    if (spec.field === 'emotion' || spec.field === 'weights') {
      const fault = weightsFault(spec.field, value);
      if (fault !== null) return { codes: ['invalid_weights'], field: fault };
    } else if (!spec.valid!(value)) return { codes: ['invalid_field'], field: spec.field };
  }
  return null;
}

type Phase = 'before-start' | 'streaming' | 'ending';

interface SessionModel {
  phase: Phase;
  references: number;
}

type Expected =
  | { kind: 'error'; codes: readonly string[]; field?: string | null; input: string }
  | { kind: 'accepted'; message: Record<string, unknown> };

/** What the server must do with a well-formed message in a given state of the session. */
function resolve(message: Record<string, unknown>, session: SessionModel, input: string): Expected {
  const error = (code: string, field?: string): Expected => ({ kind: 'error', codes: [code], ...(field ? { field } : {}), input });
  const fault = schemaFault(message);
  if (fault) return { kind: 'error', ...fault, input };
  const type = message.type as string;
  const unknownNames = (w: unknown) => Object.keys(w as object).some((n) => !EMOTIONS.includes(n));
  if (session.phase === 'before-start') {
    if (type !== 'start') return error('not_started');
    if (message.voice !== undefined && message.voice !== 'tiny-voice') return error('unknown_voice', 'voice');
    if ((message.steps as number | undefined) !== undefined && (message.steps as number) > MAX_STEPS) return error('invalid_field', 'steps');
    if (message.emotion !== undefined && unknownNames(message.emotion)) return error('unknown_emotion', 'emotion');
    return { kind: 'accepted', message };
  }
  if (type === 'cancel') return { kind: 'accepted', message };
  if (session.phase === 'ending') return error('ended');
  switch (type) {
    case 'start':
      return error('already_started');
    case 'text':
      // Accepted text per session stays far below the limit; only a huge text passes it.
      return (message.text as string).length > MAX_BUFFERED_TEXT ? error('text_too_long', 'text') : { kind: 'accepted', message };
    case 'emotion':
      return unknownNames(message.weights) ? error('unknown_emotion', 'weights') : { kind: 'accepted', message };
    case 'reference':
      if (EMOTIONS.includes(message.name as string)) return error('invalid_field', 'name');
      session.references++;
      return { kind: 'accepted', message };
    default:
      return { kind: 'accepted', message };
  }
}

// ---------------------------------------------------------------------------
// The generator.

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const EXTENSIONS = ['d4 01 00', 'd5 01 0000', 'd6 ff 00000000', 'd7 ff 0000000000000000', `d8 01 ${'00'.repeat(16)}`, 'c7 01 05 00', 'c8 0001 05 00', 'c9 00000001 05 00', 'd4 72 40', 'd4 00 00'].map(hex);
const WORDS = ['hello', 'world', 'the', 'quick', 'brown', 'fox', 'Dr.', 'U.S.', '3.14', '1,000,000', '42nd', 'e-mail', 'https://example.com/a?b=c', 'don’t', 'Grüße', '你好。世界', 'naïve', 'שלום', '👋🏽', '—', '…', '"quoted"', '(aside)', 'well,', 'stop.', 'really?', 'yes!', 'a'.repeat(40), '\u200b', '\ud800', '\u0007', '\t', 'MMXXVI', '$5.99', '10:30pm',
  // Small in bytes, costly to say: one token that reads as hundreds of words.
  '7'.repeat(400), 'q1w2e3'.repeat(60), `https://example.com/${'a1/b2.c3?'.repeat(40)}`, '\u001b[31m'];

function mapHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x80 | n]);
  const b = Buffer.alloc(5);
  b[0] = 0xdf;
  b.writeUInt32BE(n, 1);
  return b;
}
/** A map from keys to already-encoded values: how non-msgpackr bytes get into an otherwise valid message. */
const rawMap = (entries: [string, Buffer][]): Buffer => Buffer.concat([mapHeader(entries.length), ...entries.flatMap(([k, v]) => [pack(k), v])]);
const nested = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), hex('00')]);

/** Keys and values in all containers, as the strict decoder counts them. */
function itemsOf(value: unknown): number {
  if (Array.isArray(value)) return value.length + value.reduce((n: number, v) => n + itemsOf(v), 0);
  if (isMap(value)) return Object.entries(value).reduce((n, [, v]) => n + 2 + itemsOf(v), 0);
  return 0;
}

interface Input {
  label: string;
  frame: Buffer | string;
  /** A rejection whatever the session's state, or a well-formed message for `resolve`. */
  outcome: { kind: 'rejected'; rejection: Rejection } | { kind: 'message'; message: Record<string, unknown> };
}

const asInput = (m: Record<string, unknown>, label: string): Input => ({ label, frame: pack(m), outcome: { kind: 'message', message: decoded(m) as Record<string, unknown> } });

/** A reference clip the server can analyse (the others are a few random bytes). */
const VALID_WAV = writeWav(Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16_000)), 16_000);

class Generator {
  constructor(private readonly rng: Rng) {}

  private sentence(): string {
    const n = this.rng.between(0, 8);
    return Array.from({ length: n }, () => this.rng.pick(WORDS)).join(this.rng.pick([' ', ' ', ' ', '  ', '\n', ''])) + this.rng.pick(['', '.', '!', '?', ' ']);
  }

  private weights(): Record<string, number> {
    const names = EMOTIONS.filter(() => this.rng.chance(0.4));
    if (names.length === 0) names.push(this.rng.pick(EMOTIONS));
    return Object.fromEntries(names.map((n) => [n, this.rng.between(1, 100) / 10]));
  }

  /** Any value MessagePack carries, odd ones favoured. */
  value(): unknown {
    const s = this.rng;
    return s.pick<() => unknown>([
      () => '',
      () => 'x',
      () => s.pick(['opus', 'pcm16', 'asap', 'realtime', 'happy', 'tiny-voice', 'start', 'ref0', 'bad name', 'a-b_c', '__proto__']),
      () => 'y'.repeat(s.between(60, 300)),
      () => s.pick([0, -0, 1, -1, 0.25, 0.5, 1.5, 4, 4.01, 10, 10.5, 100, 101, 1000, 1001, 600_000, 600_001, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE, 1e-300, 0.05, 0.1]),
      () => s.pick([NaN, Infinity, -Infinity]),
      () => s.pick([2n ** 63n - 1n, -(2n ** 63n), 5n, 2n ** 64n - 1n]),
      () => s.chance(0.5),
      () => null,
      () => s.bytes(s.between(0, 16)),
      () => [],
      () => [s.int(100), 'a', null],
      () => ({}),
      () => this.weights(),
      () => ({ happy: s.pick([NaN, Infinity, -1, 0, 'x', null]) }),
      () => ({ [s.pick(['', 'k'.repeat(65), 'joy', 'neutral'])]: 1 }),
      // Each weight finite, their sum not.
      () => ({ happy: 1e308, sad: s.pick([1e308, 1.7e308]) }),
      () => Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`e${i}`, 1])),
    ])();
  }

  /** A well-formed message of a random type, sometimes with fields no version defines. */
  valid(): Record<string, unknown> {
    const s = this.rng;
    const type = s.pick(['text', 'text', 'text', 'emotion', 'flush', 'cancel', 'reference', 'start']);
    const message: Record<string, unknown> = { type };
    if (type === 'text') message.text = this.sentence();
    if (type === 'emotion') {
      message.weights = this.weights();
      if (s.chance(0.5)) message.rampMs = s.between(0, 2000);
    }
    if (type === 'reference') {
      message.name = s.chance(0.1) ? s.pick(EMOTIONS) : s.pick(REFERENCE_NAMES);
      message.audio = s.chance(0.5) ? VALID_WAV : s.bytes(s.between(0, 200));
    }
    if (type === 'start') Object.assign(message, this.startFields());
    if (s.chance(0.15)) message[s.pick(['future', 'x', 'constructor', 'toString', 'hasOwnProperty'])] = s.pick([1, 'two', [3, [4]], { five: 5 }, null]);
    return message;
  }

  startFields(): Record<string, unknown> {
    const s = this.rng;
    const fields: Record<string, unknown> = { seed: s.int(2 ** 32), steps: s.between(1, 3) };
    if (s.chance(0.5)) fields.format = s.pick(['opus', 'pcm16']);
    if (s.chance(0.5)) fields.emotion = this.weights();
    if (s.chance(0.3)) fields.speed = s.pick([0.5, 1, 2]);
    if (s.chance(0.3)) fields.temperature = s.pick([0.5, 1, 1.5]);
    return fields;
  }

  /** A start the server must refuse for what it names, though the schema takes it. */
  unservableStart(): Input {
    const m = this.rng.pick([
      () => ({ type: 'start', voice: this.rng.pick(['nope', 'TINY-VOICE', '../tiny-voice', 'x'.repeat(128)]) }),
      () => ({ type: 'start', steps: this.rng.between(MAX_STEPS + 1, 1000) }),
      () => ({ type: 'start', emotion: { joy: 1, happy: 1 } }),
    ])();
    return asInput(m, 'unservable start');
  }

  input(): Input {
    const s = this.rng;
    const message = asInput;
    const rejected = (label: string, frame: Buffer | string, codes: readonly string[], field?: string | null): Input => ({
      label,
      frame,
      outcome: { kind: 'rejected', rejection: { codes, ...(field === undefined ? {} : { field }) } },
    });
    const kinds: [number, () => Input][] = [
      [30, () => message(this.valid(), 'valid')],
      [6, () => rejected('random bytes', s.bytes(s.chance(0.9) ? s.between(0, 64) : s.between(65, 4096)), ['bad_message', 'unknown_type'], ANY)],
      [6, () => {
        const full = pack(this.valid());
        return rejected('truncated', full.subarray(0, s.int(full.length)), ['bad_message']);
      }],
      [3, () => rejected('trailing bytes', Buffer.concat([pack(this.valid()), s.bytes(s.between(1, 8))]), ['bad_message'])],
      [4, () => {
        const entries = Object.entries(this.valid()).map(([k, v]): [string, Buffer] => [k, pack(v)]);
        entries.splice(s.int(entries.length + 1), 0, [s.pick(['x', 'text', 'type']), s.pick(EXTENSIONS)]);
        return rejected('extension type', rawMap(entries), ['bad_message']);
      }],
      [2, () => rejected('reserved byte', rawMap([['type', pack('text')], ['text', hex('c1')]]), ['bad_message'])],
      [2, () => {
        const key = s.pick([hex('01'), hex('c0'), hex('90'), hex('80'), hex('c4 01 61'), hex('cb 3ff8000000000000')]);
        return rejected('non-string key', Buffer.concat([hex('82'), pack('type'), pack('flush'), key, pack(1)]), ['bad_message']);
      }],
      [4, () => {
        // The top map is one level, so a field may nest MAX_DEPTH - 1 more.
        const depth = s.between(MAX_DEPTH - 4, MAX_DEPTH + 4);
        const inText = s.chance(0.5);
        const frame = rawMap([['type', pack('text')], ['text', inText ? nested(depth) : pack('hi')], ...(inText ? [] : [['x', nested(depth)] as [string, Buffer]])]);
        if (depth > MAX_DEPTH - 1) return rejected('deep nesting', frame, ['bad_message']);
        return inText ? rejected('nested text', frame, ['invalid_field'], 'text') : message({ type: 'text', text: 'hi', x: wire.unpack(nested(depth)) }, 'nesting within the limit');
      }],
      [4, () => {
        const m = this.valid();
        const n = s.between(MAX_ITEMS - 40, MAX_ITEMS + 40);
        m[s.pick(['junk', 'more'])] = s.chance(0.5) ? Array(n).fill(0) : Object.fromEntries(Array.from({ length: n >> 1 }, (_, i) => [`k${i}`, i]));
        return itemsOf(m) > MAX_ITEMS ? rejected('too many items', pack(m), ['bad_message']) : message(m, 'items within the limit');
      }],
      [12, () => {
        // One field of a valid message replaced by any value: the model says whether that is still valid.
        const spec = s.pick(FIELDS);
        const base = spec.type === 'start' ? { type: 'start', ...this.startFields() } : this.validOf(spec.type);
        const m: Record<string, unknown> = { ...base };
        if (s.chance(0.1)) delete m[spec.field];
        else m[spec.field] = this.value();
        return message(m, `field ${spec.type}.${spec.field}`);
      }],
      [4, () => {
        const type = s.pick<unknown>(['', 'Start', 'TEXT', 'dance', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'x'.repeat(s.between(100, 5000)), 1, -1, 1.5, 2n ** 64n - 1n, true, null, [], {}, Buffer.from('text')]);
        const m: Record<string, unknown> = { ...this.valid(), type };
        if (s.chance(0.2)) delete m.type;
        return rejected('unknown type', pack(m), ['unknown_type'], 'type');
      }],
      [3, () => rejected('not a map', pack(s.pick<unknown>(['text', 1, null, true, [{ type: 'text', text: 'hi' }], Buffer.from('hi'), 1.5, ''])), ['bad_message'])],
      [2, () => rejected('text frame', s.pick(['{"type":"text","text":"hi"}', '', 'start', '\u0000'.repeat(10), '\u{1F600}']), ['bad_message'])],
      [2, () => rejected('prototype key', rawMap([['__proto__', pack({ type: 'text', text: 'polluted' })]]), ['unknown_type'], 'type')],
      [2, () => {
        const which = s.pick(['text', 'voice', 'name', 'key']);
        const long = 'z'.repeat(s.between(MAX_BUFFERED_TEXT + 1, MAX_BUFFERED_TEXT + 50_000));
        if (which === 'text') return message({ type: 'text', text: long }, 'huge text');
        if (which === 'voice') return message({ type: 'start', voice: long }, 'huge voice');
        if (which === 'name') return message({ type: 'reference', name: long, audio: Buffer.alloc(1) }, 'huge name');
        return message({ type: 'emotion', weights: { [long]: 1 } }, 'huge key');
      }],
    ];
    const total = kinds.reduce((n, [w]) => n + w, 0);
    let pick = s.int(total);
    for (const [weight, make] of kinds) {
      if ((pick -= weight) < 0) return make();
    }
    throw new Error('unreachable');
  }

  private validOf(type: string): Record<string, unknown> {
    for (;;) {
      const m = this.valid();
      if (m.type === type) return m;
    }
  }
}

// ---------------------------------------------------------------------------
// Running sessions.

interface Tally {
  inputs: number;
  errors: number;
  accepted: number;
  sessions: number;
  oversize: number;
  afterEndSent: number;
  afterEndAnswered: number;
  byLabel: Record<string, number>;
  codes: Record<string, number>;
  largestReply: number;
}

const newTally = (): Tally => ({ inputs: 0, errors: 0, accepted: 0, sessions: 0, oversize: 0, afterEndSent: 0, afterEndAnswered: 0, byLabel: {}, codes: {}, largestReply: 0 });

function sumTallies(tallies: Tally[]): Tally {
  const sum = newTally();
  const add = (to: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) to[k] = (to[k] ?? 0) + n;
  };
  for (const t of tallies) {
    for (const key of ['inputs', 'errors', 'accepted', 'sessions', 'oversize', 'afterEndSent', 'afterEndAnswered'] as const) sum[key] += t[key];
    add(sum.byLabel, t.byLabel);
    add(sum.codes, t.codes);
    sum.largestReply = Math.max(sum.largestReply, t.largestReply);
  }
  return sum;
}

function send(client: TestClient, frame: Buffer | string): void {
  if (typeof frame === 'string') client.socket.send(frame);
  else client.socket.send(frame, { binary: true });
}

/** Checks one error reply against what the model expected; the input's label goes in the failure. */
function expectError(got: Message, expected: Extract<Expected, { kind: 'error' }>, tally: Tally): void {
  const where = `${expected.input} → ${got.code} ${got.field ?? ''}: ${got.message}`;
  expect(expected.codes, where).toContain(got.code);
  if (expected.field !== ANY) expect(got.field, where).toBe(expected.field);
  expect(got.fatal, where).toBe(false);
  expect(typeof got.message, where).toBe('string');
  const size = pack(got).length;
  tally.largestReply = Math.max(tally.largestReply, size);
  expect(size, where).toBeLessThanOrEqual(MAX_REPLY_BYTES);
  tally.codes[got.code] = (tally.codes[got.code] ?? 0) + 1;
}

/** One session from connection to close, with about `budget` inputs while it streams and a few before and after. */
async function fuzzSession(gen: Generator, rng: Rng, tally: Tally, budget: number): Promise<void> {
  const client = await TestClient.connect(srv.ws);
  const model: SessionModel = { phase: 'before-start', references: 0 };
  const expected: Expected[] = [];
  const accepted: string[] = [];
  let validReferences = 0;
  let badReferences = 0;
  let flushesSinceCancel = 0;
  let flushes = 0;

  const submit = (input: Input): void => {
    let e: Expected;
    if (input.outcome.kind === 'rejected') e = { kind: 'error', ...input.outcome.rejection, input: input.label };
    else {
      // References beyond the waiting limit would be refused by timing, not by their content.
      const m = input.outcome.message;
      if (m.type === 'reference' && model.phase === 'streaming' && model.references >= MAX_WAITING_REFERENCES && !schemaFault(m)) return;
      e = resolve(m, model, `${input.label} ${JSON.stringify(m).slice(0, 120)}`);
    }
    send(client, input.frame);
    tally.inputs++;
    tally.byLabel[input.label] = (tally.byLabel[input.label] ?? 0) + 1;
    expected.push(e);
    if (e.kind === 'error') return;
    tally.accepted++;
    const m = e.message;
    if (m.type === 'text') accepted.push(m.text as string);
    if (m.type === 'flush') {
      flushes++;
      flushesSinceCancel++;
    }
    if (m.type === 'cancel') flushesSinceCancel = 0;
    if (m.type === 'reference') {
      if ((m.audio as Uint8Array).length === VALID_WAV.length) validReferences++;
      else badReferences++;
    }
  };

  // Before start: rejections, messages that need a session, and starts the server cannot serve.
  for (let i = rng.between(0, 6); i > 0; i--) {
    const input = rng.chance(0.3) ? gen.unservableStart() : gen.input();
    // A start the server takes would begin the session: that one comes below, on purpose.
    if (input.outcome.kind === 'message' && resolve(input.outcome.message, model, '').kind === 'accepted') continue;
    submit(input);
  }
  const ready = client.next((m) => m.type === 'ready');
  const start = { type: 'start', ...gen.startFields() };
  send(client, pack(start));
  tally.inputs++;
  await ready;
  model.phase = 'streaming';

  for (let i = Math.max(1, budget); i > 0; i--) submit(gen.input());
  // Something to synthesize, so that the session is still ending when the last inputs arrive.
  const last = 'And that is all.';
  send(client, pack({ type: 'text', text: last }));
  accepted.push(last);
  send(client, pack({ type: 'end' }));
  tally.inputs += 2;
  model.phase = 'ending';
  const beforeEnd = expected.length;
  for (let i = rng.between(0, 6); i > 0; i--) {
    const input = gen.input();
    if (input.outcome.kind === 'message' && input.outcome.message.type === 'cancel') continue;
    submit(input);
  }
  tally.afterEndSent += expected.length - beforeEnd;

  const closed = await client.closed;
  expect(closed.code, `session closed: ${JSON.stringify(client.messages.at(-1))}`).toBe(1000);
  tally.sessions++;

  const errors = client.of('error');
  tally.errors += errors.length;
  const asynchronous = errors.filter((e) => e.code === 'bad_reference');
  const synchronous = errors.filter((e) => e.code !== 'bad_reference');
  const wanted = expected.filter((e): e is Extract<Expected, { kind: 'error' }> => e.kind === 'error');
  const wantedBeforeEnd = expected.slice(0, beforeEnd).filter((e) => e.kind === 'error').length;
  // Inputs after `end` are answered until the session closes, then no more.
  expect(synchronous.length).toBeGreaterThanOrEqual(wantedBeforeEnd);
  expect(synchronous.length).toBeLessThanOrEqual(wanted.length);
  tally.afterEndAnswered += synchronous.length - wantedBeforeEnd;
  synchronous.forEach((got, i) => expectError(got, wanted[i]!, tally));
  for (const e of asynchronous) expectError(e, { kind: 'error', codes: ['bad_reference'], field: 'audio', input: 'reference' }, tally);
  expect(asynchronous.length).toBe(badReferences);
  expect(client.of('emotionAdded').length).toBe(validReferences);

  const flushed = client.of('flushed').length;
  expect(flushed).toBeGreaterThanOrEqual(flushesSinceCancel);
  expect(flushed).toBeLessThanOrEqual(flushes);
  expectAccounted(client, accepted);
  const done = client.of('done');
  expect(done).toHaveLength(1);
  expect(client.messages.at(-1)).toBe(done[0]);
  const cutShort = client.of('cancelled').reduce((n, c) => n + (c.phrases as number[]).length, 0);
  expect(done[0]!.stats.phrases + cutShort).toBe(client.of('phrase').length);
  expect(done[0]!.stats.failedPhrases).toBe(0);
  let seq = 0;
  for (const a of client.of('audio')) {
    expect(a.seq).toBe(seq);
    seq += (a.packets as Uint8Array[]).length;
  }
}

/** A frame over the size limit: ws closes the connection with 1009 and the server goes on. */
async function oversize(rng: Rng, tally: Tally): Promise<void> {
  const client = await TestClient.connect(srv.ws);
  if (rng.chance(0.5)) await client.start();
  send(client, rng.chance(0.5) ? pack({ type: 'text', text: 'o'.repeat(MAX_MESSAGE_BYTES) }) : rng.bytes(MAX_MESSAGE_BYTES + rng.between(1, 1000)));
  tally.inputs++;
  tally.oversize++;
  expect((await client.closed).code).toBe(1009);
}

// ---------------------------------------------------------------------------
// Bystanders: the same seeded request must give the same audio, fuzz or not.

const BYSTANDER_TEXT = 'A bystander speaks while others send garbage. Its audio must not change at all.';

async function speakBystander(): Promise<{ phrases: string[]; pcm: Int16Array[] }> {
  const client = await TestClient.connect(srv.ws);
  await client.start({ format: 'pcm16', seed: 99, emotion: { happy: 1, sad: 1 } });
  client.send({ type: 'text', text: BYSTANDER_TEXT });
  client.send({ type: 'end' });
  expect((await client.closed).code).toBe(1000);
  expect(client.of('error')).toEqual([]);
  expectAccounted(client, [BYSTANDER_TEXT]);
  return {
    phrases: client.of('phrase').map((p) => p.text as string),
    pcm: client.of('phrase').map((p) => Int16Array.from(client.of('audio').filter((a) => a.phrase === p.id).flatMap((a) => Array.from(bytesLEToInt16((a.packets as Uint8Array[])[0]!))))),
  };
}

/** Largest difference of two renderings relative to the reference's peak. */
function deviation(reference: Int16Array[], got: Int16Array[]): number {
  let worst = 0;
  reference.forEach((ref, k) => {
    const other = got[k]!;
    expect(other.length).toBe(ref.length);
    const peak = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - other[i]!) / peak);
  });
  return worst;
}

describe('protocol fuzzing', () => {
  it(`answers ${ITERATIONS} generated inputs as documented while bystanders keep their audio (seed ${SEED})`, async () => {
    const quiet = await speakBystander();
    const tallies = Array.from({ length: FUZZERS }, newTally);
    const started = performance.now();
    let fuzzing = true;
    let bystanderSessions = 0;
    let worstDeviation = 0;

    const bystander = async () => {
      while (fuzzing) {
        const got = await speakBystander();
        expect(got.phrases).toEqual(quiet.phrases);
        worstDeviation = Math.max(worstDeviation, deviation(quiet.pcm, got.pcm));
        bystanderSessions++;
      }
    };
    const fuzzer = async (k: number) => {
      const rng = new Rng(SEED + k);
      const gen = new Generator(rng);
      const tally = tallies[k]!;
      while (tally.inputs < ITERATIONS / FUZZERS) {
        if (rng.chance(0.03)) await oversize(rng, tally);
        else await fuzzSession(gen, rng, tally, rng.between(20, 150));
      }
    };

    const bystanders = Array.from({ length: BYSTANDERS }, bystander);
    try {
      await Promise.all(Array.from({ length: FUZZERS }, (_, k) => fuzzer(k)));
    } finally {
      fuzzing = false;
    }
    await Promise.all(bystanders);

    // The server is up, holds nothing, and still serves.
    expect(({} as Record<string, unknown>).type).toBeUndefined();
    await until(() => srv.server.sessions().length === 0, 1000, 'every session released');
    const health = await fetch(`${srv.http}/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${srv.http}/metrics`)).text();
    expect(metrics).not.toMatch(/emomix_errors_total\{code="(internal|synthesis_failed)"\}/);

    const tally = sumTallies(tallies);
    expect(tally.inputs).toBeGreaterThanOrEqual(ITERATIONS);
    expect(tally.afterEndAnswered).toBeGreaterThan(0);
    expect(worstDeviation).toBeLessThan(1e-3);
    report('fuzz', {
      seed: SEED,
      inputs: tally.inputs,
      errorsAnswered: tally.errors,
      acceptedMessages: tally.accepted,
      sessions: tally.sessions,
      oversizeFrames: tally.oversize,
      afterEnd: { sent: tally.afterEndSent, answered: tally.afterEndAnswered },
      bystanderSessions,
      bystanderWorstDeviation: worstDeviation,
      largestErrorReplyBytes: tally.largestReply,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      inputsByKind: tally.byLabel,
      errorsByCode: tally.codes,
    });
  }, 600_000);
});

describe('regressions found by fuzzing', () => {
  it('answers a 64-bit integer type with unknown_type, not an internal error', async () => {
    // JSON.stringify threw on the BigInt msgpackr made of it, and the server logged an internal error per message.
    const client = await TestClient.connect(srv.ws);
    const reply = client.next('error');
    send(client, hex('81 a4 74797065 cf ffffffffffffffff'));
    expect(await reply).toMatchObject({ code: 'unknown_type', field: 'type', fatal: false });
    client.socket.close();
  });

  it('quotes a megabyte-long weights key back clipped, not whole', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start();
    const reply = client.next('error');
    client.send({ type: 'emotion', weights: { ['k'.repeat(400_000)]: 1 } });
    const error = await reply;
    expect(error).toMatchObject({ code: 'invalid_weights', fatal: false });
    expect(pack(error).length).toBeLessThan(MAX_REPLY_BYTES);
    client.socket.close();
  });

  it('answers every reference clip before done, however late it was sent', async () => {
    // `done` came as soon as the speech ended, and clips still being analysed were never answered.
    const client = await TestClient.connect(srv.ws);
    await client.start();
    client.send({ type: 'reference', name: 'ref0', audio: VALID_WAV });
    client.send({ type: 'reference', name: 'ref1', audio: Buffer.from('not a wav') });
    client.send({ type: 'end' });
    expect((await client.closed).code).toBe(1000);
    expect(client.types()).toEqual(['ready', 'emotionAdded', 'error', 'done']);
    expect(client.of('error')[0]).toMatchObject({ code: 'bad_reference', field: 'audio' });
  });
});
