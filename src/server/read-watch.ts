// Whether a WebSocket client still reads. The server pings it; a client that reads
// answers with a pong (every WebSocket library does it by itself, browsers included).
// One that sends but never reads answers nothing, however much audio the kernel's
// buffers take on its behalf, so the idle timeout can close it.
import type { WebSocket } from 'ws';

export class ReadWatch {
  private lastPong = performance.now();
  private readonly timer: NodeJS.Timeout;

  /** Pings every timeoutMs / 4; calls `stalled` once no pong has come for timeoutMs. */
  constructor(socket: WebSocket, timeoutMs: number, stalled: (silentMs: number) => void) {
    socket.on('pong', () => (this.lastPong = performance.now()));
    this.timer = setInterval(
      () => {
        const silentMs = performance.now() - this.lastPong;
        if (silentMs > timeoutMs) {
          this.stop();
          stalled(silentMs);
        } else if (socket.readyState === socket.OPEN) socket.ping();
      },
      Math.max(25, timeoutMs / 4),
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
