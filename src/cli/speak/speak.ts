// One speech session for the command-line clients: text in, fed under the
// server's buffer limit as it becomes available; audio out to the sinks as it
// arrives; and a record of what happened, for the report.
import { type ServerMessage, type SessionStats, type StartMessage, OUTPUT_SAMPLE_RATE } from '../../protocol/index.js';
import { createOpusDecoder } from '../../stream/opus.js';
import { int16ToBytesLE } from '../../stream/pcm.js';
import { Connection } from '../../client/connection.js';
import type { AudioSink } from './sink.js';
import { slices, TextWindow } from './text-window.js';

export type Ready = Extract<ServerMessage, { type: 'ready' }>;
export type Phrase = Extract<ServerMessage, { type: 'phrase' }>;

export interface Progress {
  /** Characters of text sent so far. */
  chars: number;
  phrases: number;
  /** End of the speech announced so far, on the session timeline. */
  audioMs: number;
}

export interface SpeakEvents {
  phrase(phrase: Phrase): void;
  progress(progress: Progress): void;
  /** A non-fatal error: a phrase that failed, a refused message. */
  warning(message: string): void;
}

export interface SpeakRequest {
  url: string;
  token?: string | undefined;
  start: Omit<StartMessage, 'type'>;
  text: AsyncIterable<string> | Iterable<string>;
  openSinks(ready: Ready): Promise<AudioSink[]>;
  events: SpeakEvents;
  /** Aborting cancels what is not yet spoken; what was received is kept. */
  signal?: AbortSignal;
}

export interface SpeakResult {
  phrases: number;
  /** Speech received, in ms: where the last phrase ends on the session timeline. */
  audioMs: number;
  /** From the first text sent to the first audio received. */
  firstAudioMs: number | null;
  /** From the first text sent to the end of the session. */
  wallMs: number;
  /** The server's account, from `done`; absent when the session did not end normally. */
  stats: SessionStats | undefined;
  /** Why the session ended early, if it did. */
  failure: string | undefined;
}

export async function speak(request: SpeakRequest): Promise<SpeakResult> {
  let connection: Connection;
  try {
    connection = await Connection.open(request.url, { token: request.token });
  } catch (error) {
    throw new Error(`cannot connect to ${request.url}: ${(error as Error).message}`);
  }
  const progress: Progress = { chars: 0, phrases: 0, audioMs: 0 };
  let window: TextWindow | undefined;
  let sinks: AudioSink[] = [];
  let toPcm: ((packets: Uint8Array[]) => Uint8Array) | undefined;
  let firstTextAt: number | undefined;
  let firstAudioAt: number | undefined;
  let endedAt: number | undefined;
  let stats: SessionStats | undefined;
  let failure: string | undefined;
  let endSent = false;

  const end = (): void => {
    if (endSent) return;
    endSent = true;
    connection.send({ type: 'end' });
  };
  const stop = (why?: string): void => {
    failure ??= why;
    connection.send({ type: 'cancel' });
    end();
  };
  const onAbort = (): void => stop();
  request.signal?.addEventListener('abort', onAbort, { once: true });

  const feed = async (window: TextWindow): Promise<void> => {
    for await (const chunk of request.text) {
      for (const piece of slices(chunk, window.sliceSize)) {
        if (!(await window.room(piece.length)) || endSent) return;
        firstTextAt ??= performance.now();
        connection.send({ type: 'text', text: piece });
        window.sent(piece);
        progress.chars += piece.length;
      }
      request.events.progress(progress);
    }
    end();
  };

  try {
    connection.send({ type: 'start', ...request.start });
    for await (const message of connection) {
      switch (message.type) {
        case 'ready':
          sinks = await request.openSinks(message);
          toPcm = message.format === 'opus' ? opusToPcm(message.preSkip ?? 0) : (packets) => packets[0] ?? new Uint8Array(0);
          window = new TextWindow(message.limits.maxBufferedText, request.start.markup === true);
          if (request.signal?.aborted) stop();
          else feed(window).catch((error: unknown) => stop(`reading the text failed: ${(error as Error).message}`));
          break;
        case 'phrase':
          window?.announced(message.text);
          progress.phrases++;
          progress.audioMs = Math.max(progress.audioMs, message.startMs + message.durationMs);
          request.events.phrase(message);
          request.events.progress(progress);
          break;
        case 'audio': {
          firstAudioAt ??= performance.now();
          let pcm: Uint8Array | undefined;
          for (const sink of sinks) {
            if (sink.kind === 'opus') await sink.write(message.packets);
            else await sink.write((pcm ??= toPcm!(message.packets)));
          }
          break;
        }
        case 'error':
          if (message.fatal || !window) {
            failure ??= `${message.code}: ${message.message}`;
            // A refused start leaves the session waiting for another: nothing more will come.
            if (!window) connection.close();
          } else {
            // A failed phrase left the server's buffer without being announced.
            if (message.text !== undefined && message.phrase !== undefined) window.announced(message.text);
            request.events.warning(`${message.code}: ${message.message}`);
          }
          break;
        case 'done':
          stats = message.stats;
          endedAt = performance.now();
          break;
      }
    }
  } catch (error) {
    // A sink that fails (a full disk, a player that quit) ends the session.
    stop((error as Error).message);
    connection.close();
  } finally {
    request.signal?.removeEventListener('abort', onAbort);
    window?.close();
  }

  const closed = await connection.closed;
  if (!stats && !failure) failure = connection.error?.message ?? `the connection closed (${closed.code}${closed.reason ? ` ${closed.reason}` : ''})`;
  const speechSamples = Math.round((progress.audioMs * OUTPUT_SAMPLE_RATE) / 1000);
  for (const sink of sinks) await sink.close(speechSamples).catch((error: Error) => (failure ??= error.message));
  endedAt ??= performance.now();
  return {
    phrases: progress.phrases,
    audioMs: progress.audioMs,
    firstAudioMs: firstTextAt !== undefined && firstAudioAt !== undefined ? firstAudioAt - firstTextAt : null,
    wallMs: firstTextAt !== undefined ? endedAt - firstTextAt : 0,
    stats,
    failure,
  };
}

/** Opus packets → PCM bytes, without the decoder's first `preSkip` samples (the encoder's lookahead). */
function opusToPcm(preSkip: number): (packets: Uint8Array[]) => Uint8Array {
  const decoder = createOpusDecoder();
  let skip = preSkip;
  return (packets) => {
    const parts = packets.map((packet) => {
      const samples = decoder.decode(packet);
      const drop = Math.min(skip, samples.length);
      skip -= drop;
      return samples.subarray(drop);
    });
    const joined = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return int16ToBytesLE(joined);
  };
}
