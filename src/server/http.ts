// HTTP routes on the stream's port: health, metrics, voices, whole-file speech
// and the browser client's static files. Errors are JSON
// `{error: {code, message}}` with the protocol's codes.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { RepeatLog } from './repeat-log.js';
import { Mp3EncoderPool } from '../stream/mp3.js';
import type { OpusEncoderPool } from '../stream/opus.js';
import { checkAccess, originAllowed } from './access.js';
import { httpStatusOf, readinessOf, type Capacity, type HealthReport } from './health.js';
import type { ServerConfig } from './config.js';
import { ErrorCode, ERRORS, PCM_SAMPLE_RATES, ProtocolError, synthesisOptionsSchema, toProtocolError } from '../protocol/index.js';
import { pathOf, type Logger } from './logger.js';
import { countSpoken, type ServerMetrics } from './metrics.js';
import { synthesizeFile } from './whole-text.js';
import { openAiErrorBody, openAiSpeechRoute } from './routes/openai-speech.js';
import { resolveStaticFile, resolveVendorFile } from './static-files.js';
import { speechSettings } from './speech-settings.js';
import { inSpeechSlot } from './speech-request.js';
import type { VoiceRegistry } from './voices.js';

export interface HttpContext {
  config: ServerConfig;
  voices: VoiceRegistry;
  metrics: ServerMetrics;
  logger: Logger;
  startedAt: number;
  instance: string;
  /** Refusing new sessions and requests. */
  draining(): boolean;
  /** Shutting down: /health says so, though sessions may still be admitted for the drain delay. */
  leaving(): boolean;
  activeSessions(): number;
  capacity(): Capacity;
  /** Takes a slot of the session limit, or returns null when none is free. */
  acquireSlot(): (() => void) | null;
  encoders: OpusEncoderPool;
  /** Synthesis failures, logged once per kind and window. */
  failures: RepeatLog;
}

const speechSchema = synthesisOptionsSchema.extend({
  text: z.string().min(1),
  format: z.enum(['ogg', 'wav', 'pcm', 'mulaw']).optional(),
  /** wav and pcm only: 8000, 16000, 24000 or 48000. */
  sampleRate: z
    .union(PCM_SAMPLE_RATES.map((rate) => z.literal(rate)))
    .optional(),
  markup: z.boolean().optional(),
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store' });
  res.end(bytes);
}

/** How long, and how far past the limit, the rest of a refused body is read and dropped. */
const DISCARD_MS = 5000;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused: ProtocolError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const refuse = (): void => {
      clearTimeout(timer);
      // Stop reading; the error response closes the connection.
      req.pause();
      reject(refused);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused) {
        if (size > 2 * limit) refuse();
      } else if (size > limit) {
        // Closing a socket with the client's bytes unread resets it, and the client often
        // sees the reset before the 413: the rest is read and dropped, up to the limit
        // again or DISCARD_MS, so that a client a little over gets its answer.
        refused = new ProtocolError(ErrorCode.tooLarge, `the body exceeds ${limit} bytes`);
        chunks.length = 0;
        timer = setTimeout(refuse, DISCARD_MS);
      } else chunks.push(chunk);
    });
    req.on('end', () => (refused ? refuse() : resolve(Buffer.concat(chunks))));
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The request's body as JSON, at most `limit` bytes; throws ProtocolError. */
async function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  let text: string;
  try {
    text = (await readBody(req, limit)).toString('utf8');
  } catch (error) {
    // The rest of the body is left unread: the connection cannot be reused.
    if (error instanceof ProtocolError) res.setHeader('connection', 'close');
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtocolError(ErrorCode.badMessage, 'the body must be JSON');
  }
}

export function createHttpHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, metrics } = ctx;
  const log = ctx.logger.child({ component: 'http' });

  const routes: Record<
    string,
    {
      method: string;
      auth: boolean;
      handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
      /** The route's own error body, where its clients expect another shape than ours. */
      errorBody?(status: number, code: string, message: string, field?: string): unknown;
    }
  > = {
    '/health': {
      method: 'GET',
      auth: false,
      handle: (_req, res) => {
        const status = readinessOf(ctx.leaving(), ctx.capacity());
        const report: HealthReport = {
          status,
          instance: ctx.instance,
          sessions: ctx.activeSessions(),
          maxSessions: config.maxSessions,
          voices: ctx.voices.list().map((v) => v.id),
          uptimeS: Math.round((Date.now() - ctx.startedAt) / 1000),
        };
        sendJson(res, httpStatusOf(status), report);
      },
    },
    '/health/live': {
      method: 'GET',
      auth: false,
      handle: (_req, res) => sendJson(res, 200, { status: 'live', instance: ctx.instance }),
    },
    '/metrics': {
      method: 'GET',
      auth: true,
      handle: async (_req, res) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      },
    },
    '/v1/voices': {
      method: 'GET',
      auth: true,
      handle: (_req, res) => sendJson(res, 200, { default: ctx.voices.defaultId, voices: ctx.voices.list() }),
    },
    '/v1/speech': { method: 'POST', auth: true, handle: (req, res) => speech(req, res) },
    '/v1/audio/speech': {
      method: 'POST',
      auth: true,
      handle: openAiSpeechRoute({ ...ctx, readJson, encoders: { opus: ctx.encoders, mp3: new Mp3EncoderPool() } }),
      errorBody: openAiErrorBody,
    },
    '/v1/stream': {
      method: 'GET',
      auth: false,
      handle: () => {
        throw new ProtocolError(ErrorCode.upgradeRequired, 'connect with a WebSocket');
      },
    },
  };

  async function speech(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (ctx.draining()) throw new ProtocolError(ErrorCode.shuttingDown);
    const parsed = speechSchema.safeParse(await readJson(req, res, config.maxMessageBytes));
    if (!parsed.success) throw toProtocolError(parsed.error);
    const body = parsed.data;
    if (body.sampleRate !== undefined && body.format !== 'wav' && body.format !== 'pcm') {
      throw new ProtocolError(ErrorCode.invalidField, 'sampleRate: for wav and pcm only (ogg is 48000 Hz, mulaw 8000 Hz)', 'sampleRate');
    }
    if (body.text.length > config.maxBufferedText) {
      throw new ProtocolError(ErrorCode.textTooLong, `text: at most ${config.maxBufferedText} characters`, 'text');
    }
    const settings = speechSettings(ctx.voices.resolve(body.voice), body, config.maxSteps);
    await inSpeechSlot(ctx, '/v1/speech', res, async (signal) => {
      const file = await synthesizeFile(
        settings,
        { text: body.text, format: body.format ?? 'ogg', sampleRate: body.sampleRate, markup: body.markup ?? false, maxAudioSeconds: config.maxRequestAudioSeconds, firstAudioGraceMs: config.firstAudioGraceMs },
        ctx.encoders,
        signal,
      );
      countSpoken(metrics, settings.voice.info.id, file);
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length, 'x-emomix-phrases': file.phrases });
      res.end(file.body);
    });
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const file = (await resolveVendorFile(path)) ?? (await resolveStaticFile(config.webDir, path === '/' ? '/index.html' : path));
    if (!file) throw new ProtocolError(ErrorCode.notFound, notFoundMessage(req.method, path));
    res.writeHead(200, {
      'content-type': file.contentType,
      'content-length': file.size,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.path).pipe(res);
  }

  function notFoundMessage(method: string | undefined, path: string): string {
    const list = Object.entries(routes).map(([route, { method: m }]) => `${m} ${route}`);
    return `no route ${method ?? 'GET'} ${path.slice(0, 128)}; routes: ${list.join(', ')}, GET / (the studio)`;
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-headers', 'authorization, content-type');
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-expose-headers', 'x-emomix-phrases, x-emomix-voice, x-emomix-model, x-emomix-emotion');
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<string> {
    const route = routes[path];
    // Browsers send CORS preflights without credentials, so OPTIONS needs no token.
    const denial = checkAccess(req, config, req.method !== 'OPTIONS' && (route?.auth ?? false));
    if (denial) throw denial;
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return 'options';
    }
    if (route) {
      if (req.method !== route.method) throw new ProtocolError(ErrorCode.methodNotAllowed, `use ${route.method}`);
      await route.handle(req, res);
      return path;
    }
    // Only the studio's files lie outside the routes, and they are only read.
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ProtocolError(ErrorCode.notFound, notFoundMessage(req.method, path));
    await serveStatic(req, res, path);
    return 'static';
  }

  return (req, res) => {
    const path = pathOf(req.url);
    handle(req, res, path).then(
      (route) => metrics.httpRequests.inc({ route, status: String(res.statusCode) }),
      (error: unknown) => {
        const known = error instanceof ProtocolError;
        if (!known) log.error({ err: error, path }, 'request failed');
        const code = known ? error.code : ErrorCode.internal;
        const status = ERRORS[code].status;
        metrics.errors.inc({ code });
        metrics.httpRequests.inc({ route: routes[path] ? path : 'static', status: String(status) });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (!originAllowed(req, config)) res.removeHeader('access-control-allow-origin');
        const message = known ? error.message : ERRORS.internal.message!;
        const field = known ? error.field : undefined;
        const errorBody = routes[path]?.errorBody;
        sendJson(res, status, errorBody ? errorBody(status, code, message, field) : { error: { code, message, ...(field ? { field } : {}) } });
      },
    );
  };
}
