// POST /v1/audio/speech, shaped like OpenAI's speech endpoint so that its SDKs
// and the tools built on them (LiveKit's and Pipecat's OpenAI plugins, Open
// WebUI) work with only a base URL changed. The body streams as phrases are
// synthesized: raw audio, or server-sent events with base64 audio.
// docs/clients.md documents the fields and what differs from OpenAI.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Mp3EncoderPool } from '../../stream/mp3.js';
import type { OpusEncoderPool } from '../../stream/opus.js';
import type { ServerConfig } from '../config.js';
import { ErrorCode, ProtocolError, synthesisOptionsSchema, toProtocolError, type EmotionWeights } from '../../protocol/index.js';
import { countSpoken, type ServerMetrics } from '../metrics.js';
import { nextTurn, slices } from '../../stream/next-turn.js';
import type { RepeatLog } from '../repeat-log.js';
import { renderText } from '../whole-text.js';
import { inSpeechSlot } from '../speech-request.js';
import { speechSettings } from '../speech-settings.js';
import { mp3Encoder, oggOpusEncoder, pcmEncoder, streamingWavEncoder, type SpeechEncoder } from '../speech-encoders.js';
import type { ServedVoice, VoiceRegistry } from '../voices.js';
import { emotionFromInstructions } from './instructions.js';

/** OpenAI's limit on `input`. */
export const OPENAI_MAX_INPUT = 4096;
/** OpenAI's pcm and wav are 24 kHz; so are ours, and our mp3. */
export const OPENAI_SAMPLE_RATE = 24_000;
const MP3_KBPS = 64;

export const OPENAI_FORMATS = ['mp3', 'opus', 'wav', 'pcm'] as const;
type OpenAiFormat = (typeof OPENAI_FORMATS)[number];

/** OpenAI's built-in voice names: each speaks with this server's default voice. */
export const OPENAI_VOICE_NAMES = ['alloy', 'ash', 'ballad', 'cedar', 'coral', 'echo', 'fable', 'marin', 'nova', 'onyx', 'sage', 'shimmer', 'verse'];

const requestSchema = z.object({
  // Reported back in a header, so printable ASCII only (OpenAI's model names are).
  model: z.string().max(128).regex(/^[\x20-\x7e]*$/u, 'printable ASCII only').optional(),
  input: z.string().min(1).max(OPENAI_MAX_INPUT),
  voice: z.union([z.string().min(1).max(128), z.object({ id: z.string().min(1).max(128) })]),
  response_format: z.string().max(16).optional(),
  speed: synthesisOptionsSchema.shape.speed,
  instructions: z.string().max(OPENAI_MAX_INPUT).optional(),
  stream_format: z.enum(['audio', 'sse']).optional(),
  // Our own, passed by the SDK as extra body fields.
  emotion: synthesisOptionsSchema.shape.emotion,
  steps: synthesisOptionsSchema.shape.steps,
  temperature: synthesisOptionsSchema.shape.temperature,
  seed: synthesisOptionsSchema.shape.seed,
  /** Emotion tags in `input` are read unless this is false (docs/protocol.md, Emotion markup). */
  markup: z.boolean().optional(),
});

export interface OpenAiSpeechContext {
  config: ServerConfig;
  voices: VoiceRegistry;
  metrics: ServerMetrics;
  draining(): boolean;
  acquireSlot(): (() => void) | null;
  /** The body as JSON (at most `limit` bytes); throws ProtocolError. */
  readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown>;
  encoders: { opus: OpusEncoderPool; mp3: Mp3EncoderPool };
  failures: RepeatLog;
}

/** OpenAI's error body: the SDKs raise their typed errors from the status and read `error.message`. */
export function openAiErrorBody(status: number, code: string, message: string, field?: string): unknown {
  return { error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: field ?? null, code } };
}

function resolveVoice(voices: VoiceRegistry, requested: string): ServedVoice {
  if (OPENAI_VOICE_NAMES.includes(requested.toLowerCase()) && !voices.get(requested)) return voices.resolve();
  try {
    return voices.resolve(requested);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new ProtocolError(error.code, `${error.message} (OpenAI's names, such as alloy, speak with ${voices.defaultId})`, error.field);
  }
}

function instructed(instructions: string | undefined, voice: ServedVoice): EmotionWeights | undefined {
  if (!instructions) return undefined;
  try {
    return emotionFromInstructions(instructions, voice.info);
  } catch (error) {
    throw new ProtocolError(ErrorCode.badMarkup, `instructions: bad emotion tag: ${(error as Error).message}`, 'instructions');
  }
}

function encoderFor(format: OpenAiFormat, ctx: OpenAiSpeechContext, voice: ServedVoice): Promise<SpeechEncoder> {
  switch (format) {
    case 'mp3':
      return mp3Encoder(ctx.encoders.mp3, OPENAI_SAMPLE_RATE, MP3_KBPS);
    case 'opus':
      return oggOpusEncoder(ctx.encoders.opus, voice.info.sampleRate);
    case 'wav':
      return Promise.resolve(streamingWavEncoder(OPENAI_SAMPLE_RATE));
    case 'pcm':
      return Promise.resolve(pcmEncoder(OPENAI_SAMPLE_RATE));
  }
}

function parseFormat(value: string | undefined): OpenAiFormat {
  const format = value ?? 'mp3';
  if ((OPENAI_FORMATS as readonly string[]).includes(format)) return format as OpenAiFormat;
  const why = format === 'aac' || format === 'flac' ? 'is not offered by this server' : 'is not a format';
  throw new ProtocolError(ErrorCode.invalidField, `response_format: "${format.slice(0, 16)}" ${why}; use one of ${OPENAI_FORMATS.join(', ')}`, 'response_format');
}

/** Writes, waiting when the socket's buffer is full, so a slow reader slows synthesis down. */
function write(res: ServerResponse, bytes: Uint8Array | string): Promise<void> {
  if (res.write(bytes)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

const sseEvent = (event: unknown): string => `data: ${JSON.stringify(event)}\n\n`;

export function openAiSpeechRoute(ctx: OpenAiSpeechContext): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { config, metrics } = ctx;
  return async (req, res) => {
    if (ctx.draining()) throw new ProtocolError(ErrorCode.shuttingDown);
    const parsed = requestSchema.safeParse(await ctx.readJson(req, res, config.maxMessageBytes));
    if (!parsed.success) throw toProtocolError(parsed.error);
    const body = parsed.data;
    if (body.input.length > config.maxBufferedText) {
      throw new ProtocolError(ErrorCode.textTooLong, `input: at most ${config.maxBufferedText} characters on this server`, 'input');
    }
    const format = parseFormat(body.response_format);
    const voice = resolveVoice(ctx.voices, typeof body.voice === 'string' ? body.voice : body.voice.id);
    const settings = speechSettings(voice, { ...body, emotion: body.emotion ?? instructed(body.instructions, voice) }, config.maxSteps);
    await inSpeechSlot(ctx, '/v1/audio/speech', res, async (signal) => {
      let encoder: SpeechEncoder | undefined = await encoderFor(format, ctx, voice);
      try {
        const sse = body.stream_format === 'sse';
        const send = (bytes: Uint8Array): Promise<void> | undefined => {
          if (bytes.length === 0) return undefined;
          return write(res, sse ? sseEvent({ type: 'speech.audio.delta', audio: Buffer.from(bytes).toString('base64') }) : bytes);
        };
        const rate = encoder.sampleRate;
        let phrases = 0;
        let samples = 0;
        let synthesisMs = 0;
        const speech = { text: body.input, markup: body.markup ?? true, maxAudioSeconds: config.maxRequestAudioSeconds, firstAudioGraceMs: config.firstAudioGraceMs };
        for await (const rendered of renderText(settings, speech, signal, rate)) {
          // Headers wait for the first phrase, so a request that cannot be spoken at all still gets an error status.
          if (!res.headersSent) {
            res.writeHead(200, {
              'content-type': sse ? 'text/event-stream' : encoder.contentType,
              'cache-control': 'no-store',
              'x-emomix-model': body.model ?? '',
              'x-emomix-voice': voice.info.id,
              'x-emomix-emotion': Object.entries(settings.emotion).map(([name, w]) => `${name}=${w}`).join(','),
            });
            await send(await encoder.start());
          }
          phrases++;
          samples += rendered.pcm.length;
          synthesisMs += rendered.synthesisMs;
          // A phrase goes to the encoder a second at a time (MP3 costs 4-6 ms of CPU per second
          // of audio), the event loop let in between.
          for (const slice of slices(rendered.pcm, rate)) {
            await send(await encoder.encode(slice));
            await nextTurn();
          }
          if (signal.aborted) break;
        }
        if (signal.aborted) return;
        if (!res.headersSent) {
          res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : encoder.contentType, 'cache-control': 'no-store' });
          await send(await encoder.start());
        }
        await send(await encoder.finish());
        encoder = undefined;
        if (sse) {
          // OpenAI reports tokens; we report characters in and 20 ms audio frames out.
          const frames = Math.ceil((samples * 50) / rate);
          await write(res, sseEvent({ type: 'speech.audio.done', usage: { input_tokens: body.input.length, output_tokens: frames, total_tokens: body.input.length + frames } }));
        }
        res.end();
        countSpoken(metrics, voice.info.id, { phrases, audioMs: (samples * 1000) / rate, synthesisMs });
      } finally {
        encoder?.discard();
      }
    });
  };
}
