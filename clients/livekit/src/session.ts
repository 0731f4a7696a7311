// One protocol session: connects, sends `start`, waits for `ready`, then
// carries messages both ways. Failures become LiveKit's API errors so that the
// framework's retry loop knows which ones are worth another attempt.
import { APIConnectionError, APIStatusError, APITimeoutError, AsyncIterableQueue } from '@livekit/agents';
import { WebSocket } from 'ws';
import { decode, encode, type ClientMessage, type ReadyMessage, type ServerMessage, type Weights } from './protocol.js';

export interface SessionSettings {
  url: string;
  apiKey?: string;
  sampleRate?: number;
  voice?: string;
  emotion?: Weights;
  steps?: number;
  speed?: number;
  seed?: number;
}

// The HTTP status each refusal code stands for (docs/protocol.md, Errors), so
// that APIStatusError marks 4xx refusals as not worth retrying.
const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden_origin: 403,
  server_busy: 503,
  shutting_down: 503,
  unknown_voice: 400,
  unknown_emotion: 400,
  invalid_weights: 400,
  invalid_field: 400,
};

export function refusal(error: { code: string; message: string; field?: string }, retryable = true): APIStatusError {
  const field = error.field ? ` (field ${error.field})` : '';
  return new APIStatusError({
    message: `emomix refused: ${error.code}: ${error.message}${field}`,
    options: { statusCode: STATUS[error.code] ?? 500, retryable, body: error },
  });
}

export class EmomixSession implements AsyncIterable<ServerMessage> {
  private constructor(
    private readonly socket: WebSocket,
    private readonly inbox: AsyncIterableQueue<ServerMessage>,
    readonly ready: ReadyMessage,
  ) {}

  /** Opens a session; rejects with an APIError when the server cannot be reached or refuses `start`. */
  static open(settings: SessionSettings, timeoutMs: number, signal: AbortSignal): Promise<EmomixSession> {
    const headers: Record<string, string> = settings.apiKey ? { Authorization: `Bearer ${settings.apiKey}` } : {};
    const socket = new WebSocket(settings.url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
    const inbox = new AsyncIterableQueue<ServerMessage>();
    // A socket error after `ready` also ends in `close`, which ends the inbox.
    socket.on('error', () => undefined);

    return new Promise<EmomixSession>((resolve, reject) => {
      let settled = false;
      const settle = (outcome: EmomixSession | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (outcome instanceof Error) {
          socket.terminate();
          reject(outcome);
        } else resolve(outcome);
      };
      const timer = setTimeout(() => settle(new APITimeoutError({ message: `emomix: no ready from ${settings.url} within ${timeoutMs} ms` })), timeoutMs);
      const onAbort = (): void => settle(new APIConnectionError({ message: 'emomix: aborted while connecting', options: { retryable: false } }));
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();

      socket.once('error', (error) => settle(new APIConnectionError({ message: `emomix: cannot connect to ${settings.url}: ${error.message}` })));
      socket.once('unexpected-response', (_request, response) =>
        settle(new APIStatusError({ message: `emomix: ${settings.url} answered the upgrade with HTTP ${response.statusCode}`, options: { statusCode: response.statusCode ?? -1 } })),
      );
      socket.once('open', () => {
        const { url: _url, apiKey: _apiKey, ...fields } = settings;
        socket.send(encode({ type: 'start', format: 'pcm16', ...fields }));
      });
      socket.on('message', (data: Buffer) => {
        let message: ServerMessage | undefined;
        try {
          message = decode(data);
        } catch {
          // Not MessagePack: nothing after it can be trusted, so the session ends (as a lost connection).
          socket.terminate();
          return;
        }
        if (!message) return;
        if (settled) {
          if (!inbox.closed) inbox.put(message);
        } else if (message.type === 'ready') {
          settle(new EmomixSession(socket, inbox, message));
        } else if (message.type === 'error') {
          settle(refusal(message));
        }
      });
      socket.once('close', (code) => {
        if (!inbox.closed) inbox.close();
        settle(new APIConnectionError({ message: `emomix: connection closed (${code}) before ready` }));
      });
    });
  }

  get id(): string {
    return this.ready.session;
  }

  /** Whether messages can still be sent. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): void {
    if (this.open) this.socket.send(encode(message));
  }

  /** Closes the connection; the server drops whatever was not yet spoken. */
  close(): void {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) this.socket.close(1000);
  }

  [Symbol.asyncIterator](): AsyncIterator<ServerMessage> {
    return this.inbox[Symbol.asyncIterator]();
  }
}
