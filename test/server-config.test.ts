// `emomix serve` settings: defaults, environment, flags over environment, and refusals.
import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, parseConfig } from '../src/server/config.js';
import { DEFAULT_EARLY_CUT_WORDS } from '../src/pipeline/segmenter.js';

describe('parseConfig', () => {
  it('has defaults, with PORT 8080 and the slt-emo voice', () => {
    const config = parseConfig([], {})!;
    expect(config).toMatchObject({ port: 8080, host: '0.0.0.0', modelsDir: 'models', defaultVoice: 'slt-emo', extraVoices: [], allowedOrigins: [], pacing: 'asap', authToken: undefined });
  });

  it('reads the environment, and flags win over it', () => {
    const env = { PORT: '9000', EMOMIX_AUTH_TOKEN: 't', EMOMIX_ALLOWED_ORIGINS: 'https://a.example, https://b.example', EMOMIX_MAX_SESSIONS: '3' };
    expect(parseConfig([], env)).toMatchObject({ port: 9000, authToken: 't', allowedOrigins: ['https://a.example', 'https://b.example'], maxSessions: 3 });
    expect(parseConfig(['--port', '7000', '--max-sessions=5'], env)).toMatchObject({ port: 7000, maxSessions: 5 });
  });

  it('passes the runtime settings through: device, workers, intra-op threads, graph optimisation', () => {
    expect(parseConfig([], {})).toMatchObject({ device: 'cpu', workers: undefined, intraOpThreads: undefined, graphOptimization: 'all' });
    const env = { EMOMIX_DEVICE: 'cuda', EMOMIX_GRAPH_OPTIMIZATION: 'basic' };
    expect(parseConfig(['--workers', '3', '--intra-op-threads', '2'], env)).toMatchObject({ device: 'cuda', workers: 3, intraOpThreads: 2, graphOptimization: 'basic' });
    expect(parseConfig(['--graph-optimization', 'disabled'], env)).toMatchObject({ graphOptimization: 'disabled' });
  });

  it('passes the performance settings through: cross-session batching and the phrase cache', () => {
    expect(parseConfig([], {})).toMatchObject({ batching: 'auto', cacheEntries: 256 });
    expect(parseConfig(['--batching', 'on', '--cache-entries', '0'], {})).toMatchObject({ batching: 'on', cacheEntries: 0 });
    expect(parseConfig([], { EMOMIX_BATCHING: 'off' })).toMatchObject({ batching: 'off' });
    expect(parseConfig([], {})).toMatchObject({ scheduling: 'deadline' });
    expect(parseConfig(['--scheduling', 'arrival'], {})).toMatchObject({ scheduling: 'arrival' });
    expect(() => parseConfig(['--batching', 'yes'], {})).toThrow(ConfigError);
  });

  it('reads where a streaming sentence may be cut early: --early-cut-words, 0 for never', () => {
    expect(parseConfig([], {})).toMatchObject({ earlyCutWords: DEFAULT_EARLY_CUT_WORDS });
    expect(parseConfig(['--early-cut-words', '0'], {})).toMatchObject({ earlyCutWords: 0 });
    expect(parseConfig([], { EMOMIX_EARLY_CUT_WORDS: '6' })).toMatchObject({ earlyCutWords: 6 });
    expect(() => parseConfig(['--early-cut-words', '31'], {})).toThrow(ConfigError);
  });

  it('reads the Opus encoder effort: --opus-complexity 0-10, default 5', () => {
    expect(parseConfig([], {})).toMatchObject({ opusComplexity: 5 });
    expect(parseConfig(['--opus-complexity', '5'], {})).toMatchObject({ opusComplexity: 5 });
    expect(parseConfig([], { EMOMIX_OPUS_COMPLEXITY: '0' })).toMatchObject({ opusComplexity: 0 });
    expect(() => parseConfig(['--opus-complexity', '11'], {})).toThrow(ConfigError);
  });

  it('reads the first-audio grace: --first-audio-grace-ms 0-10000, default 500', () => {
    expect(parseConfig([], {})).toMatchObject({ firstAudioGraceMs: 500 });
    expect(parseConfig(['--first-audio-grace-ms', '0'], {})).toMatchObject({ firstAudioGraceMs: 0 });
    expect(parseConfig([], { EMOMIX_FIRST_AUDIO_GRACE_MS: '250' })).toMatchObject({ firstAudioGraceMs: 250 });
    expect(() => parseConfig(['--first-audio-grace-ms', '-1'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--first-audio-grace-ms', '10001'], {})).toThrow(ConfigError);
  });

  it("reads libopus's application hint: --opus-application audio (default) or voip", () => {
    expect(parseConfig([], {})).toMatchObject({ opusApplication: 'audio' });
    expect(parseConfig(['--opus-application', 'voip'], {})).toMatchObject({ opusApplication: 'voip' });
    expect(parseConfig([], { EMOMIX_OPUS_APPLICATION: 'voip' })).toMatchObject({ opusApplication: 'voip' });
    expect(() => parseConfig(['--opus-application', 'music'], {})).toThrow(ConfigError);
  });

  it('reads the load-balancer settings: instance id and drain delay', () => {
    expect(parseConfig([], {})).toMatchObject({ instanceId: undefined, drainDelayMs: 0 });
    expect(parseConfig([], { EMOMIX_INSTANCE_ID: 'tts-3', EMOMIX_DRAIN_DELAY_MS: '2000' })).toMatchObject({ instanceId: 'tts-3', drainDelayMs: 2000 });
    expect(() => parseConfig(['--drain-delay-ms', '-1'], {})).toThrow(ConfigError);
  });

  it('returns null for --help, and the help names every flag with its variable', () => {
    expect(parseConfig(['--help'], {})).toBeNull();
    for (const s of ['--port', 'PORT', '--auth-token', 'EMOMIX_AUTH_TOKEN', '--max-buffered-text', '--idle-timeout-ms', '--allowed-origins', '--graph-optimization', '--intra-op-threads']) expect(helpText).toContain(s);
    // The fixed limits on the work a message causes, from the constants that enforce them.
    for (const s of ['--max-request-audio-s', 'at most 30 spoken words', 'every 64 characters', '1000 phonemes and 120 s', '8000-192000 Hz, at most 30 s']) expect(helpText).toContain(s);
  });

  it.each([
    [['--port', '70000'], {}],
    [['--port', '1.5'], {}],
    [[], { PORT: 'eighty' }],
    [['--pacing', 'fast'], {}],
    [['--graph-optimization', 'max'], {}],
    [['--device', 'tpu'], {}],
    [['--chunk-ms', '30'], {}],
    [['--no-such-flag'], {}],
    [['stray'], {}],
  ])('refuses %j %j', (argv, env) => {
    expect(() => parseConfig(argv, env)).toThrow(ConfigError);
  });
});
