// Server settings from command-line flags and the environment (a flag wins
// over its variable, a variable over the default). One table drives parsing,
// validation and `emomix serve --help`.
import { parseArgs } from 'node:util';
import { DEFAULT_EARLY_CUT_WORDS, DEFAULT_SEGMENTER_OPTIONS } from '../pipeline/segmenter.js';
import { REFERENCE_LIMITS, SYNTHESIS_LIMITS, type GraphOptimization } from '../pipeline/synthesis/index.js';
import { DEFAULT_FIRST_AUDIO_GRACE_MS } from './session/play-clock.js';
import { DEFAULT_OPUS_APPLICATION, DEFAULT_OPUS_COMPLEXITY, OPUS_APPLICATIONS, type OpusApplication } from '../stream/opus.js';

export interface ServerConfig {
  host: string;
  port: number;
  modelsDir: string;
  defaultVoice: string;
  extraVoices: string[];
  device: 'cpu' | 'cuda';
  workers: number | undefined;
  intraOpThreads: number | undefined;
  graphOptimization: GraphOptimization;
  batching: 'auto' | 'on' | 'off';
  scheduling: 'deadline' | 'arrival';
  cacheEntries: number;
  maxSessions: number;
  maxMessageBytes: number;
  maxBufferedText: number;
  maxSteps: number;
  maxRequestAudioSeconds: number;
  maxMessagesPerSecond: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  drainDelayMs: number;
  instanceId: string | undefined;
  authToken: string | undefined;
  allowedOrigins: string[];
  opusBitrate: number;
  opusComplexity: number;
  opusApplication: OpusApplication;
  pacing: 'asap' | 'realtime';
  earlyCutWords: number;
  chunkMs: number;
  firstAudioGraceMs: number;
  highWaterBytes: number;
  webDir: string;
  logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Parser<T> = (raw: string, flag: string) => T;

const integer =
  (min: number, max: number): Parser<number> =>
  (raw, flag) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new ConfigError(`--${flag}: expected an integer from ${min} to ${max}, got "${raw}"`);
    return n;
  };
const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw, flag) => {
    if (!(values as string[]).includes(raw)) throw new ConfigError(`--${flag}: expected one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
const text: Parser<string> = (raw) => raw;
const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

interface Option<K extends keyof ServerConfig> {
  key: K;
  flag: string;
  env: string;
  parse: Parser<ServerConfig[K]>;
  fallback: ServerConfig[K];
  help: string;
}
const option = <K extends keyof ServerConfig>(o: Option<K>): Option<K> => o;

const MINUTE = 60_000;
const options = [
  option({ key: 'port', flag: 'port', env: 'PORT', parse: integer(0, 65535), fallback: 8080, help: 'TCP port (0 picks a free one)' }),
  option({ key: 'host', flag: 'host', env: 'HOST', parse: text, fallback: '0.0.0.0', help: 'interface to listen on' }),
  option({ key: 'modelsDir', flag: 'models', env: 'EMOMIX_MODELS', parse: text, fallback: 'models', help: 'folder holding <voice-id>/voice.json' }),
  option({ key: 'defaultVoice', flag: 'voice', env: 'EMOMIX_VOICE', parse: text, fallback: 'slt-emo', help: 'default voice id' }),
  option({ key: 'extraVoices', flag: 'voices', env: 'EMOMIX_VOICES', parse: list, fallback: [], help: 'further voice ids to load, comma-separated' }),
  option({ key: 'device', flag: 'device', env: 'EMOMIX_DEVICE', parse: oneOf('cpu', 'cuda'), fallback: 'cpu', help: 'cpu or cuda (falls back to cpu)' }),
  option({ key: 'workers', flag: 'workers', env: 'EMOMIX_WORKERS', parse: integer(1, 256), fallback: undefined, help: 'inference worker threads per voice (default: by CPU count)' }),
  option({ key: 'intraOpThreads', flag: 'intra-op-threads', env: 'EMOMIX_INTRA_OP_THREADS', parse: integer(1, 256), fallback: undefined, help: 'onnxruntime intra-op threads per worker' }),
  option({ key: 'graphOptimization', flag: 'graph-optimization', env: 'EMOMIX_GRAPH_OPTIMIZATION', parse: oneOf('disabled', 'basic', 'extended', 'all'), fallback: 'all', help: 'onnxruntime graph optimisation level' }),
  option({ key: 'batching', flag: 'batching', env: 'EMOMIX_BATCHING', parse: oneOf('auto', 'on', 'off'), fallback: 'auto', help: "run concurrent sessions' estimator steps as one call (auto: on cuda only)" }),
  option({ key: 'scheduling', flag: 'scheduling', env: 'EMOMIX_SCHEDULING', parse: oneOf('deadline', 'arrival'), fallback: 'deadline', help: 'under load, inference calls by the time their listener needs them (arrival: first come first served, only to measure it)' }),
  option({ key: 'cacheEntries', flag: 'cache-entries', env: 'EMOMIX_CACHE_ENTRIES', parse: integer(0, 1_000_000), fallback: 256, help: 'phrases whose front-end and encoder results are reused (0: none)' }),
  option({ key: 'maxSessions', flag: 'max-sessions', env: 'EMOMIX_MAX_SESSIONS', parse: integer(1, 100_000), fallback: 64, help: 'concurrent WebSocket sessions plus /v1/speech requests' }),
  option({ key: 'maxMessageBytes', flag: 'max-message-bytes', env: 'EMOMIX_MAX_MESSAGE_BYTES', parse: integer(1024, 256 * 2 ** 20), fallback: 2 * 2 ** 20, help: 'largest client message or request body' }),
  option({ key: 'maxBufferedText', flag: 'max-buffered-text', env: 'EMOMIX_MAX_BUFFERED_TEXT', parse: integer(16, 10_000_000), fallback: 16_384, help: 'characters of text a session may hold not yet synthesized' }),
  option({ key: 'maxRequestAudioSeconds', flag: 'max-request-audio-s', env: 'EMOMIX_MAX_REQUEST_AUDIO_S', parse: integer(1, 24 * 3600), fallback: 120, help: 'audio one HTTP speech request may produce, in seconds (past it: 413 audio_too_long)' }),
  option({ key: 'maxSteps', flag: 'max-steps', env: 'EMOMIX_MAX_STEPS', parse: integer(1, 1000), fallback: 100, help: 'largest diffusion step count a client may ask for' }),
  option({ key: 'maxMessagesPerSecond', flag: 'max-messages-per-second', env: 'EMOMIX_MAX_MESSAGES_PER_SECOND', parse: integer(1, 1_000_000), fallback: 1000, help: 'client messages a session may send per second, in bursts of as many (more closes it)' }),
  option({ key: 'idleTimeoutMs', flag: 'idle-timeout-ms', env: 'EMOMIX_IDLE_TIMEOUT_MS', parse: integer(100, 24 * 60 * MINUTE), fallback: MINUTE, help: 'close a session with no message and no audio sent for this long' }),
  option({ key: 'drainTimeoutMs', flag: 'drain-timeout-ms', env: 'EMOMIX_DRAIN_TIMEOUT_MS', parse: integer(0, 60 * MINUTE), fallback: 10_000, help: 'on SIGTERM, how long in-flight phrases may take to finish' }),
  option({ key: 'drainDelayMs', flag: 'drain-delay-ms', env: 'EMOMIX_DRAIN_DELAY_MS', parse: integer(0, 10 * MINUTE), fallback: 0, help: 'on SIGTERM, how long /health says draining while sessions are still admitted (a load balancer\'s time to notice)' }),
  option({ key: 'instanceId', flag: 'instance-id', env: 'EMOMIX_INSTANCE_ID', parse: text, fallback: undefined, help: 'name in `ready` and /health (default: host name and process id)' }),
  option({ key: 'authToken', flag: 'auth-token', env: 'EMOMIX_AUTH_TOKEN', parse: text, fallback: undefined, help: 'require this bearer token (prefer the variable: flags show in ps)' }),
  option({ key: 'allowedOrigins', flag: 'allowed-origins', env: 'EMOMIX_ALLOWED_ORIGINS', parse: list, fallback: [], help: "browser Origins allowed, comma-separated, besides the server's own (default: any)" }),
  option({ key: 'opusBitrate', flag: 'opus-bitrate', env: 'EMOMIX_OPUS_BITRATE', parse: integer(6000, 510_000), fallback: 32_000, help: 'Opus bitrate in bit/s' }),
  option({ key: 'opusComplexity', flag: 'opus-complexity', env: 'EMOMIX_OPUS_COMPLEXITY', parse: integer(0, 10), fallback: DEFAULT_OPUS_COMPLEXITY, help: 'Opus encoder effort, 0-10: lower spends less CPU per session for slightly worse audio' }),
  option({ key: 'opusApplication', flag: 'opus-application', env: 'EMOMIX_OPUS_APPLICATION', parse: oneOf(...OPUS_APPLICATIONS), fallback: DEFAULT_OPUS_APPLICATION, help: "libopus's coding-mode hint: audio (CELT alone at 32 kbit/s, a fifth of the CPU) or voip (SILK and CELT)" }),
  option({ key: 'pacing', flag: 'pacing', env: 'EMOMIX_PACING', parse: oneOf('asap', 'realtime'), fallback: 'asap', help: 'default audio pacing: as produced, or at real time' }),
  option({ key: 'earlyCutWords', flag: 'early-cut-words', env: 'EMOMIX_EARLY_CUT_WORDS', parse: integer(0, DEFAULT_SEGMENTER_OPTIONS.maxWords), fallback: DEFAULT_EARLY_CUT_WORDS, help: 'while text streams in, a sentence may be cut early at a pause point after this many words, for sooner first audio (0: never; docs/benchmarks.md)' }),
  option({ key: 'firstAudioGraceMs', flag: 'first-audio-grace-ms', env: 'EMOMIX_FIRST_AUDIO_GRACE_MS', parse: integer(0, 10_000), fallback: DEFAULT_FIRST_AUDIO_GRACE_MS, help: 'under load, how long a listener who hears nothing yet lets audio due sooner to listeners mid-speech go first (0: never)' }),
  option({ key: 'chunkMs', flag: 'chunk-ms', env: 'EMOMIX_CHUNK_MS', parse: integer(20, 2000), fallback: 100, help: 'audio per `audio` message (a multiple of 20)' }),
  option({ key: 'highWaterBytes', flag: 'high-water-bytes', env: 'EMOMIX_HIGH_WATER_BYTES', parse: integer(1024, 64 * 2 ** 20), fallback: 64 * 1024, help: 'bytes queued on a socket before synthesis waits' }),
  option({ key: 'webDir', flag: 'web-dir', env: 'EMOMIX_WEB_DIR', parse: text, fallback: 'clients/web', help: 'static files served at /' }),
  option({ key: 'logLevel', flag: 'log-level', env: 'LOG_LEVEL', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), fallback: 'info', help: 'pino log level' }),
];

export const helpText = [
  'usage: emomix serve [options]',
  '',
  'Serves protocol v1 on ws://HOST:PORT/v1/stream and HTTP on the same port.',
  '',
  ...options.map((o) => `  --${o.flag.padEnd(20)} ${o.env.padEnd(26)} ${o.help}${o.fallback === undefined || (Array.isArray(o.fallback) && o.fallback.length === 0) ? '' : ` [${String(o.fallback)}]`}`),
  `  --${'help'.padEnd(20)} ${''.padEnd(26)} show this text`,
  '',
  'Fixed limits on the work one message can cause (docs/protocol.md):',
  `  a phrase reads as at most ${DEFAULT_SEGMENTER_OPTIONS.maxWords} spoken words; non-space runs are cut every ${DEFAULT_SEGMENTER_OPTIONS.maxTokenChars} characters`,
  `  one synthesis: at most ${SYNTHESIS_LIMITS.maxPhonemes} phonemes and ${SYNTHESIS_LIMITS.maxAudioSeconds} s of audio (else synthesis_failed PHRASE_TOO_LONG)`,
  '  a WebSocket session holds at most 2 synthesized phrases not yet sent; the rest waits as text (--max-buffered-text)',
  `  reference clips: ${REFERENCE_LIMITS.minSampleRate}-${REFERENCE_LIMITS.maxSampleRate} Hz, at most ${REFERENCE_LIMITS.maxSeconds} s, samples finite and within ±${REFERENCE_LIMITS.maxPeak}`,
].join('\n');

/** Parses flags and environment; returns null when --help was asked for. Throws ConfigError. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | null {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries([...options.map((o) => [o.flag, { type: 'string' as const }]), ['help', { type: 'boolean' as const }]]),
    }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (values.help) return null;
  const config: Record<string, unknown> = {};
  for (const o of options) {
    const raw = (values[o.flag] as string | undefined) ?? env[o.env];
    config[o.key] = raw === undefined || raw === '' ? o.fallback : o.parse(raw, o.flag);
  }
  const result = config as unknown as ServerConfig;
  if (result.chunkMs % 20 !== 0) throw new ConfigError(`--chunk-ms: must be a multiple of 20, got ${result.chunkMs}`);
  return result;
}
