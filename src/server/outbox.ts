// Outgoing messages of one socket, with the backpressure that bounds a session's
// memory: bytes handed to ws count as queued until ws reports them written to
// the OS, and audio waits while more than the high-water mark is queued. (ws's
// `bufferedAmount` says the same but emits no event when it falls.)
// Control messages do not wait, so a client that sends without reading could
// make them pile up without end: past the high-water mark plus UNREAD_ALLOWANCE
// the outbox reports an overflow, once.
import { WebSocket } from 'ws';
import { encodeMessage, type ServerMessage } from '../protocol/index.js';

/** Far more than the control messages of a client that reads, however slowly (audio stops at the mark). */
export const UNREAD_ALLOWANCE = 1024 * 1024;

export class Outbox {
  private queued = 0;
  private waiters: (() => void)[] = [];
  private overflow = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly highWaterBytes: number,
    /** Called once, outside send(), when the unread bytes pass the allowance. */
    private readonly onOverflow: () => void,
  ) {}

  /** Bytes handed to the socket and not yet written to the OS. */
  get queuedBytes(): number {
    return this.queued;
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** The unread bytes passed the allowance: the session is about to be closed. */
  get overflowed(): boolean {
    return this.overflow;
  }

  /** Sends at once, whatever is queued: control messages must never wait behind audio. */
  send(message: ServerMessage): void {
    if (!this.open) return;
    const bytes = encodeMessage(message);
    this.queued += bytes.length;
    this.socket.send(bytes, { binary: true }, () => {
      this.queued -= bytes.length;
      if (this.queued <= this.highWaterBytes) this.wake();
    });
    if (!this.overflow && this.queued > this.highWaterBytes + UNREAD_ALLOWANCE) {
      this.overflow = true;
      queueMicrotask(this.onOverflow);
    }
  }

  /** Resolves once the queue is at or under the high-water mark, or the socket is gone. */
  whenWritable(): Promise<void> {
    if (this.queued <= this.highWaterBytes || !this.open) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Releases every waiter; called when the socket closes so nothing waits forever. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
