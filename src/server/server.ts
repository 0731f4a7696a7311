// The server: one HTTP listener carrying the routes and, at /v1/stream, the
// WebSocket sessions. Owns admission (origin, token, capacity, drain) and
// shutdown; sessions own everything after `start`.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createPhraseSegmenter, earlyCutOptions } from '../pipeline/segmenter.js';
import { OpusEncoderPool } from '../stream/opus.js';
import { checkAccess } from './access.js';
import { encodeMessage, ErrorCode, ProtocolError } from '../protocol/index.js';
import type { ServerConfig } from './config.js';
import { instanceIdOf } from './health.js';
import { createHttpHandler } from './http.js';
import { pathOf, type Logger } from './logger.js';
import { RepeatLog } from './repeat-log.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { Session, type SessionSnapshot } from './session/session.js';
import type { VoiceRegistry } from './voices.js';

export interface ServerOptions {
  config: ServerConfig;
  voices: VoiceRegistry;
  logger: Logger;
}

export interface EmomixServer {
  readonly metrics: ServerMetrics;
  /** Starts listening on config.host:config.port (port 0 picks a free one). */
  listen(): Promise<AddressInfo>;
  /** Live sessions, for monitoring and tests. */
  sessions(): SessionSnapshot[];
  /**
   * Graceful shutdown: refuse new sessions and requests, let sessions finish
   * what they accepted within config.drainTimeoutMs, close them with 1001,
   * then stop listening. Voices are the caller's to close.
   */
  drain(): Promise<void>;
  /** Immediate shutdown: drops every connection. */
  close(): Promise<void>;
}

export function createServer({ config, voices, logger }: ServerOptions): EmomixServer {
  const metrics = createMetrics();
  const sessions = new Set<Session>();
  let pendingHttp = 0;
  // leaving: /health says draining; draining: admission refuses. The drain delay lies between them.
  let leaving = false;
  let draining = false;
  const instance = instanceIdOf(config.instanceId);
  const encoders = new OpusEncoderPool({ bitrate: config.opusBitrate, complexity: config.opusComplexity, application: config.opusApplication });
  const failures = new RepeatLog(logger);

  const acquireSlot = (): (() => void) | null => {
    if (sessions.size + pendingHttp >= config.maxSessions) return null;
    pendingHttp++;
    return () => pendingHttp--;
  };

  const http: Server = createHttpServer(
    createHttpHandler({
      config,
      voices,
      metrics,
      logger,
      startedAt: Date.now(),
      instance,
      draining: () => draining,
      leaving: () => leaving,
      activeSessions: () => sessions.size,
      capacity: () => ({ used: sessions.size + pendingHttp, max: config.maxSessions }),
      acquireSlot,
      encoders,
      failures,
    }),
  );
  // Oversized frames are refused by ws itself with close code 1009.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxMessageBytes, perMessageDeflate: false });

  // A refused connection is still upgraded, so that browsers, which cannot see
  // the HTTP status of a failed upgrade, get the error message and close code.
  const refuse = (socket: WebSocket, error: ProtocolError): void => {
    metrics.errors.inc({ code: error.code });
    socket.send(encodeMessage({ type: 'error', code: error.code, message: error.message, fatal: true }));
    socket.close(error.closeCode, error.code);
  };

  http.on('upgrade', (req, stream, head) => {
    if (pathOf(req.url) !== '/v1/stream') {
      stream.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, stream, head, (socket) => {
      const denial = checkAccess(req, config, true);
      if (denial) return refuse(socket, denial);
      if (draining) return refuse(socket, new ProtocolError(ErrorCode.shuttingDown));
      if (sessions.size + pendingHttp >= config.maxSessions) {
        return refuse(socket, new ProtocolError(ErrorCode.serverBusy, `the server is at its limit of ${config.maxSessions} sessions`));
      }
      const session: Session = new Session({
        id: randomUUID(),
        instance,
        socket,
        voices,
        limits: config,
        logger,
        metrics,
        createSegmenter: () => createPhraseSegmenter(earlyCutOptions(config.earlyCutWords)),
        encoders,
        failures,
        onClosed: () => {
          sessions.delete(session);
          metrics.sessionsActive.dec();
        },
      });
      sessions.add(session);
      metrics.sessionsActive.inc();
    });
  });

  // Graceful: requests in flight finish (within the drain deadline); idle keep-alive connections go now.
  const stopListening = (graceful: boolean): Promise<void> =>
    new Promise((resolve) => {
      wss.close();
      http.close(() => resolve());
      if (!graceful) return http.closeAllConnections();
      http.closeIdleConnections();
      setTimeout(() => http.closeAllConnections(), config.drainTimeoutMs).unref();
    });

  return {
    metrics,
    listen: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.port, config.host, () => {
          http.off('error', reject);
          const address = http.address() as AddressInfo;
          logger.info({ host: address.address, port: address.port, instance, voices: voices.list().map((v) => v.id) }, 'listening');
          resolve(address);
        });
      }),
    sessions: () => [...sessions].map((s) => s.snapshot()),
    async drain() {
      if (leaving) return;
      leaving = true;
      if (config.drainDelayMs > 0) {
        logger.info({ delayMs: config.drainDelayMs }, 'leaving: /health says draining, sessions still admitted');
        await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
      }
      draining = true;
      logger.info({ sessions: sessions.size, deadlineMs: config.drainTimeoutMs }, 'draining');
      await Promise.all([...sessions].map((s) => s.drain(config.drainTimeoutMs)));
      await stopListening(true);
      logger.info('drained');
    },
    async close() {
      leaving = true;
      draining = true;
      const closed = [...sessions].map((s) => s.closed);
      for (const s of sessions) s.terminate();
      await Promise.all(closed);
      await stopListening(false);
    },
  };
}
