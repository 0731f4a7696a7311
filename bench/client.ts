// The benchmark's sessions: the project's client (src/client) and a record of
// when each `audio` message arrived and which part of the timeline it holds.
import { Connection } from '../src/client/connection.js';
import { createPhraseSegmenter } from '../src/pipeline/segmenter.js';
import { FRAME_MS, type ClientMessage, type ServerMessage, type StartMessage } from '../src/protocol/index.js';

/** The fields of a session's `start`. */
export type Start = Omit<StartMessage, 'type'>;

export interface AudioArrival {
  /** performance.now() at arrival. */
  at: number;
  /** Timeline position of the message's first packet, in ms. */
  startMs: number;
  durationMs: number;
}

class Client {
  readonly audio: AudioArrival[] = [];
  readonly errors: string[] = [];
  phrases = 0;

  private constructor(readonly connection: Connection) {
    connection.onMessage((message, at) => {
      if (message.type === 'audio') {
        this.audio.push({ at, startMs: message.seq * FRAME_MS, durationMs: message.packets.length * FRAME_MS });
      } else if (message.type === 'phrase') {
        this.phrases++;
      } else if (message.type === 'error') {
        this.errors.push(`${message.code}: ${message.message}`);
      }
    });
  }

  static async open(url: string, start: Start): Promise<Client> {
    const client = new Client(await Connection.open(url));
    const reply = await client.connection.start(start);
    if (reply.type !== 'ready') throw new Error(`start refused: ${reply.type === 'error' ? reply.message : reply.type}`);
    return client;
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * Time to first audio of one fresh session: from sending the `text` message that
 * completes the first phrase to the first `audio` message received.
 */
export function timeToFirstAudio(url: string, start: Start, text: string): Promise<number> {
  return timeToFirstAudioOf(url, start, [text]);
}

/** A message of a scripted session: text, or any other client message (an `emotion`). */
export type Step = string | ClientMessage;

const toMessage = (step: Step): ClientMessage => (typeof step === 'string' ? { type: 'text', text: step } : step);

/**
 * Time to first audio of one fresh session fed `steps` at once: from sending the last of
 * them (the text that completes the first phrase) to the first `audio` message.
 */
export async function timeToFirstAudioOf(url: string, start: Start, steps: Step[]): Promise<number> {
  const client = await Client.open(url, start);
  try {
    const audio = client.connection.next((m) => m.type === 'audio' || m.type === 'error');
    for (const step of steps.slice(0, -1)) client.connection.send(toMessage(step));
    const sent = performance.now();
    client.connection.send(toMessage(steps[steps.length - 1]!));
    const first = await audio;
    if (first.type !== 'audio') throw new Error(`no audio: ${first.type === 'error' ? first.message : first.type}`);
    return client.audio[0]!.at - sent;
  } finally {
    client.close();
  }
}

/** One session fed `steps` at once, then `end`: the server's synthesis real-time factor from `done`. */
export async function synthesisRtf(url: string, start: Start, steps: Step[]): Promise<number> {
  const client = await Client.open(url, start);
  try {
    const done = client.connection.next((m) => m.type === 'done');
    for (const step of steps) client.connection.send(toMessage(step));
    client.connection.send({ type: 'end' });
    const { stats } = (await done) as Extract<ServerMessage, { type: 'done' }>;
    if (client.errors.length > 0) throw new Error(client.errors[0]);
    return stats.realTimeFactor;
  } finally {
    client.close();
  }
}

/** A session that has been given `text` and keeps talking until closed. */
export async function openSession(url: string, start: Start, text: string): Promise<{ close(): void }> {
  const client = await Client.open(url, start);
  client.connection.send({ type: 'text', text });
  return client;
}

export interface StreamingResult {
  /** Ms from the text message that completed the first phrase to the first audio. */
  firstAudioMs: number;
  /** Seconds of audio received. */
  audioSeconds: number;
  /** From `start` to `done`, in ms. */
  wallMs: number;
  playback: Playback;
  /** Phrases the server cut the text into. */
  phrases: number;
  errors: string[];
}

/**
 * One session talking continuously: `text` sent word by word at `wordsPerSecond` (as a
 * language model streams it), then `end`; resolves at `done`.
 */
export async function streamSession(url: string, start: Start, text: string, wordsPerSecond: number, bufferMs: number): Promise<StreamingResult> {
  const chunks = text.split(/(?<=\s)/);
  // The client-side twin of the server's segmenter says which chunk completes the first phrase.
  const segmenter = createPhraseSegmenter();
  const completing = chunks.findIndex((chunk) => segmenter.push(chunk).length > 0);
  const began = performance.now();
  const client = await Client.open(url, start);
  try {
    const done = client.connection.next((m) => m.type === 'done');
    let completedAt = Number.NaN;
    for (let i = 0; i < chunks.length; i++) {
      const due = began + (i * 1000) / wordsPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (i === completing) completedAt = performance.now();
      client.connection.send({ type: 'text', text: chunks[i]! });
    }
    if (completing < 0) completedAt = performance.now();
    client.connection.send({ type: 'end' });
    await done;
    const audioMs = client.audio.reduce((sum, a) => sum + a.durationMs, 0);
    return {
      firstAudioMs: (client.audio[0]?.at ?? Number.NaN) - completedAt,
      audioSeconds: audioMs / 1000,
      wallMs: performance.now() - began,
      playback: playback(client.audio, bufferMs),
      phrases: client.phrases,
      errors: client.errors,
    };
  } finally {
    client.close();
  }
}

export interface Playback {
  /** Audio messages that arrived after the client should have started playing them. */
  underruns: number;
  /** Smallest margin between arrival and play time over the session, in ms (negative: the worst underrun). */
  minSlackMs: number;
}

/**
 * A client that starts playing once `bufferMs` of audio has arrived and then plays at real
 * time: each message is due when the play head reaches its timeline position.
 */
export function playback(audio: readonly AudioArrival[], bufferMs: number): Playback {
  if (audio.length === 0) return { underruns: 0, minSlackMs: Number.NaN };
  const filled = audio.find((a) => a.startMs + a.durationMs >= bufferMs) ?? audio[audio.length - 1]!;
  const playStart = filled.at;
  let underruns = 0;
  let minSlackMs = Infinity;
  for (const a of audio) {
    const slack = playStart + a.startMs - a.at;
    // Messages before the buffer filled were waited for on purpose.
    if (a.at <= playStart) continue;
    if (slack < 0) underruns++;
    minSlackMs = Math.min(minSlackMs, slack);
  }
  return { underruns, minSlackMs: minSlackMs === Infinity ? bufferMs : minSlackMs };
}
