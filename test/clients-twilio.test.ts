// The Twilio bridge (clients/twilio) end to end: a real emomix server, the
// bridge's own HTTP/WebSocket server, and a client speaking Twilio's side of
// Media Streams (connected, start, media with base64 μ-law, mark, stop; it
// receives media, mark and clear). Marks are echoed back at once, as if played.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTwilioServer, type TwilioServer } from '../clients/twilio/server.js';
import { floatToMulaw, mulawToInt16 } from '../src/stream/mulaw.js';
import { serveFixture, wordsOf } from './server-harness.js';

const fixture = serveFixture();
let bridge: TwilioServer;
let bridgeUrl: string;
/** What the bridge reported, per call SID. */
const reports = new Map<string, { heard: string[]; interrupted: { phrases: string[]; text: string }[]; closed: boolean; errors: string[] }>();

beforeAll(async () => {
  bridge = createTwilioServer({ emomixUrl: fixture.ws }, (call) => {
    const report = { heard: [] as string[], interrupted: [] as { phrases: string[]; text: string }[], closed: false, errors: [] as string[] };
    return {
      started: () => void reports.set(call.callSid!, report),
      heard: (text) => void report.heard.push(text),
      interrupted: (cut) => void report.interrupted.push(cut),
      error: (code) => void report.errors.push(code),
      closed: () => void (report.closed = true),
    };
  });
  await new Promise<void>((resolve) => bridge.server.listen(0, '127.0.0.1', resolve));
  bridgeUrl = `127.0.0.1:${(bridge.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => bridge?.server.close(resolve));
});

type Event = Record<string, any> & { event: string };

/** Twilio's side of one call. */
class FakeTwilio {
  readonly received: Event[] = [];
  private waiters: { test: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  readonly closed: Promise<void>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const event = JSON.parse(data.toString()) as Event;
      this.received.push(event);
      // Twilio sends a mark back once the audio before it has been played.
      if (event.event === 'mark') this.send({ event: 'mark', sequenceNumber: '0', streamSid: event.streamSid, mark: event.mark });
      this.waiters = this.waiters.filter((w) => (w.test(event) ? (w.resolve(event), false) : true));
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static async call(callSid: string, customParameters: Record<string, string>): Promise<FakeTwilio> {
    const socket = new WebSocket(`ws://${bridgeUrl}/media`);
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const twilio = new FakeTwilio(socket);
    twilio.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const streamSid = `MZ${callSid}`;
    twilio.send({
      event: 'start',
      sequenceNumber: '1',
      streamSid,
      start: { accountSid: 'AC1', streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters },
    });
    return twilio;
  }

  send(event: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(event));
  }

  /** The caller's voice: one 20 ms frame of a 300 Hz tone at `amplitude`. */
  speak(amplitude: number, frames: number): void {
    for (let f = 0; f < frames; f++) {
      const pcm = Float32Array.from({ length: 160 }, (_, i) => amplitude * Math.sin((2 * Math.PI * 300 * (f * 160 + i)) / 8000));
      this.send({ event: 'media', sequenceNumber: '0', media: { track: 'inbound', chunk: String(f), timestamp: String(f * 20), payload: Buffer.from(floatToMulaw(pcm)).toString('base64') } });
    }
  }

  next(test: (e: Event) => boolean, timeoutMs = 30_000): Promise<Event> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${this.received.map((e) => e.event).join(',')}`)), timeoutMs);
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  media(): Uint8Array[] {
    return this.received.filter((e) => e.event === 'media').map((e) => new Uint8Array(Buffer.from(e.media.payload, 'base64')));
  }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(check()).toBe(true);
};

describe('Twilio Media Streams bridge', () => {
  it('answers the call webhook with TwiML that streams the call to /media', async () => {
    const res = await fetch(`http://${bridgeUrl}/twiml`, { method: 'POST' });
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(await res.text()).toContain(`<Connect><Stream url="wss://${bridgeUrl}/media">`);
  });

  it('speaks the greeting as 160-byte μ-law media of the right length, each phrase marked and heard', async () => {
    const greeting = 'Hello, this is the pharmacy. Your order is ready.';
    const twilio = await FakeTwilio.call('CA1', { greeting, seed: '5', emotion: 'happy=0.6,neutral=0.4' });
    await until(() => wordsOf(reports.get('CA1')?.heard.join(' ') ?? '').length === wordsOf(greeting).length);
    expect(reports.get('CA1')!.heard.flatMap(wordsOf)).toEqual(wordsOf(greeting));
    const media = twilio.media();
    expect(media.every((m) => m.length === 160)).toBe(true);
    expect(twilio.received.every((e) => e.streamSid === 'MZCA1')).toBe(true);
    // The same seeded speech as a file: the call carries it padded to whole 20 ms frames per phrase.
    const file = await fetch(`${fixture.http}/v1/speech`, { method: 'POST', body: JSON.stringify({ text: greeting, seed: 5, emotion: { happy: 0.6, neutral: 0.4 }, format: 'mulaw' }) });
    const fileAudio = new Uint8Array(await file.arrayBuffer());
    const fileBytes = fileAudio.length;
    const phrases = reports.get('CA1')!.heard.length;
    const callBytes = media.length * 160;
    expect(callBytes).toBeGreaterThanOrEqual(fileBytes);
    expect(callBytes).toBeLessThanOrEqual(fileBytes + phrases * 160);
    // The first 100 ms (inside the first phrase) is the file's audio: equal when the server is
    // idle, and within floating-point rounding (a μ-law step at most) when synthesis is batched.
    const call = mulawToInt16(Buffer.concat(media)).subarray(0, 800);
    const reference = mulawToInt16(fileAudio).subarray(0, 800);
    expect(reference.some((v) => v !== 0)).toBe(true);
    const error = call.reduce((sum, v, i) => sum + (v - reference[i]!) ** 2, 0);
    const energy = reference.reduce((sum, v) => sum + v * v, 0);
    expect(error).toBeLessThan(energy / 1000); // over 30 dB SNR
    twilio.send({ event: 'stop', sequenceNumber: '9', streamSid: 'MZCA1', stop: { accountSid: 'AC1', callSid: 'CA1' } });
    await twilio.closed;
    await until(() => reports.get('CA1')!.closed && fixture.server.sessions().length === 0);
  });

  it('barge-in: the caller talking over the bot gets a clear, no audio after it, and the rest cancelled', async () => {
    const greeting = 'This is a long message. It goes on for a while. There is a lot to say today. And even more after that. Please hold the line.';
    const twilio = await FakeTwilio.call('CA2', { greeting });
    await twilio.next((e) => e.event === 'media');
    // Background noise does not interrupt.
    twilio.speak(0.01, 10);
    const clear = twilio.next((e) => e.event === 'clear');
    twilio.speak(0.5, 4);
    expect(await clear).toMatchObject({ event: 'clear', streamSid: 'MZCA2' });
    const atClear = twilio.received.length;
    await until(() => reports.get('CA2')!.interrupted.length === 1);
    const cut = reports.get('CA2')!.interrupted[0]!;
    expect(cut.text.length + cut.phrases.length).toBeGreaterThan(0);
    expect(twilio.received.slice(atClear).filter((e) => e.event === 'media')).toEqual([]);
    // Every word is accounted for: heard, cut short while Twilio played it, or never spoken.
    const heard = reports.get('CA2')!.heard.flatMap(wordsOf);
    expect([...heard, ...cut.phrases.flatMap(wordsOf), ...wordsOf(cut.text)]).toEqual(wordsOf(greeting));

    // The call goes on: the app speaks again.
    const before = twilio.media().length;
    const say = await fetch(`http://${bridgeUrl}/calls/CA2/say`, { method: 'POST', body: JSON.stringify({ text: 'Sorry, go ahead.' }) });
    expect(say.status).toBe(202);
    await until(() => reports.get('CA2')!.heard.includes('Sorry, go ahead.'));
    expect(twilio.media().length).toBeGreaterThan(before);
    twilio.socket.close();
    await until(() => reports.get('CA2')!.closed && fixture.server.sessions().length === 0);
  });

  it('answers 404 for a call it does not have', async () => {
    const res = await fetch(`http://${bridgeUrl}/calls/CA404/say`, { method: 'POST', body: JSON.stringify({ text: 'Hi.' }) });
    expect(res.status).toBe(404);
  });
});
