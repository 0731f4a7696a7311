// A protocol v1 connection for Node clients: one plain MessagePack map per
// binary WebSocket frame, both ways; incoming messages are read as an async
// iterable that ends when the socket closes.
import { Packr, type Options } from 'msgpackr';
import { WebSocket } from 'ws';
import type { ClientMessage, ServerMessage } from '../../src/protocol/index.js';

// Optional fields left undefined are omitted rather than written as msgpackr's
// `undefined` extension, which the server refuses (`skipValues` is missing from msgpackr's typings).
const options: Options & { skipValues: unknown[] } = { useRecords: false, mapsAsObjects: true, skipValues: [undefined] };
const packr = new Packr(options);

// Messages read but not yet consumed, beyond which the socket stops reading:
// a slow consumer (a player at real-time pace) then slows the server down
// instead of piling audio up in memory.
const HIGH_WATER = 64;

export interface Closed {
  code: number;
  reason: string;
}

export class Connection implements AsyncIterable<ServerMessage> {
  readonly closed: Promise<Closed>;
  private readonly queue: ServerMessage[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  /** The latest socket error, if any: it explains an abnormal close. */
  error: Error | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.queue.push(packr.unpack(data) as ServerMessage);
      if (this.queue.length >= HIGH_WATER) socket.pause();
      this.wake?.();
    });
    socket.on('error', (error) => (this.error = error));
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.ended = true;
        this.wake?.();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Connects; the token goes in an Authorization header. Rejects when the connection fails. */
  static open(url: string, token?: string): Promise<Connection> {
    const socket = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, perMessageDeflate: false });
    const connection = new Connection(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(connection));
      socket.once('error', reject);
    });
  }

  send(message: ClientMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(packr.pack(message));
  }

  close(): void {
    this.socket.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ServerMessage> {
    for (;;) {
      const message = this.queue.shift();
      if (this.socket.isPaused && this.queue.length < HIGH_WATER / 2) this.socket.resume();
      if (message) yield message;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
