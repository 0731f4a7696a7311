// The project's Node client of protocol v1, used by the command-line client,
// the benchmark and the tests: one plain MessagePack map per binary WebSocket
// frame, both ways. Incoming messages can be watched as they arrive
// (`onMessage`), awaited one at a time (`next`), or read as an async iterable
// that ends when the socket closes. Like a Node stream in paused mode, messages
// that arrive while nothing listens (a refusal sent with the upgrade) wait for
// the first listener.
import { WebSocket, type ClientOptions } from 'ws';
import { decodeServerMessage, encodeMessage, type ClientMessage, type ServerMessage, type StartMessage } from '../protocol/index.js';

// Messages read but not yet consumed, beyond which the socket stops reading: a
// slow consumer (a player at real-time pace) then slows the server down instead
// of piling audio up in memory.
const HIGH_WATER = 64;

export interface Closed {
  code: number;
  reason: string;
}

export interface ConnectOptions extends ClientOptions {
  /** Sent as `Authorization: Bearer …`. */
  token?: string | undefined;
}

/** A message and when it arrived (performance.now()). */
export type MessageListener = (message: ServerMessage, at: number) => void;

export class Connection implements AsyncIterable<ServerMessage> {
  readonly closed: Promise<Closed>;
  /** The latest socket error, if any: it explains an abnormal close. */
  error: Error | undefined;
  private readonly listeners = new Set<MessageListener>();
  /** Messages that arrived while nothing listened, in order. */
  private readonly unheard: { message: ServerMessage; at: number }[] = [];
  private ended = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = decodeServerMessage(data);
      const at = performance.now();
      if (this.listeners.size > 0) {
        for (const listener of this.listeners) listener(message, at);
        return;
      }
      this.unheard.push({ message, at });
      if (this.unheard.length >= HIGH_WATER) socket.pause();
    });
    socket.on('error', (error) => (this.error = error));
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.ended = true;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Connects; rejects when the connection fails. */
  static open(url: string, { token, headers, ...options }: ConnectOptions = {}): Promise<Connection> {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...options, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const connection = new Connection(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(connection));
      socket.once('error', reject);
    });
  }

  /** Sends while the socket is open; later messages have nowhere to go and are dropped. */
  send(message: ClientMessage): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  /** Calls `listener` with every message from now on (first those that nothing has heard yet); returns what stops it. */
  onMessage(listener: MessageListener): () => void {
    this.listeners.add(listener);
    if (this.unheard.length > 0) {
      for (const { message, at } of this.unheard.splice(0)) listener(message, at);
      if (this.socket.isPaused) this.socket.resume();
    }
    return () => this.listeners.delete(listener);
  }

  /** The first message from now on that passes `test`; rejects on timeout or when the socket closes first. */
  next(test: (message: ServerMessage) => boolean, timeoutMs = 120_000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        stop?.();
        return true;
      };
      const timer = setTimeout(() => settle() && reject(new Error(`timed out after ${timeoutMs} ms waiting for the server`)), timeoutMs);
      // A message heard at once (one nothing had heard yet) settles before onMessage returns.
      let stop: (() => void) | undefined;
      const unsubscribe = this.onMessage((message) => test(message) && settle() && resolve(message));
      if (settled) unsubscribe();
      else stop = unsubscribe;
      void this.closed.then(() => settle() && reject(new Error('the server closed the connection')));
    });
  }

  /** Sends `start` and resolves with the reply: `ready`, or the `error` that refused it. */
  start(fields: Omit<StartMessage, 'type'> = {}, timeoutMs?: number): Promise<ServerMessage> {
    const reply = this.next((m) => m.type === 'ready' || m.type === 'error', timeoutMs);
    this.send({ type: 'start', ...fields });
    return reply;
  }

  close(): void {
    this.socket.close();
  }

  /** The messages from the moment iteration begins, read at the consumer's pace; ends at the close. */
  async *[Symbol.asyncIterator](): AsyncIterator<ServerMessage> {
    const queue: ServerMessage[] = [];
    let wake: (() => void) | undefined;
    const stop = this.onMessage((message) => {
      queue.push(message);
      if (queue.length >= HIGH_WATER) this.socket.pause();
      wake?.();
    });
    void this.closed.then(() => wake?.());
    try {
      for (;;) {
        const message = queue.shift();
        if (this.socket.isPaused && queue.length < HIGH_WATER / 2) this.socket.resume();
        if (message) yield message;
        else if (this.ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      stop();
    }
  }
}
