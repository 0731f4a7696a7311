// Prometheus metrics, in a registry of the server's own so that several servers
// (tests) can live in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type PhraseOutcome = 'spoken' | 'cancelled' | 'failed';

export interface ServerMetrics {
  registry: Registry;
  sessionsActive: Gauge;
  sessionsTotal: Counter<'voice'>;
  phrases: Counter<'voice' | 'outcome'>;
  firstAudioSeconds: Histogram<'voice'>;
  realTimeFactor: Histogram<'voice'>;
  audioSeconds: Counter<'voice'>;
  errors: Counter<'code'>;
  httpRequests: Counter<'route' | 'status'>;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'emomix_' });
  const registers = [registry];
  return {
    registry,
    sessionsActive: new Gauge({ name: 'emomix_sessions_active', help: 'Open WebSocket sessions', registers }),
    sessionsTotal: new Counter({ name: 'emomix_sessions_total', help: 'Sessions started', labelNames: ['voice'], registers }),
    phrases: new Counter({
      name: 'emomix_phrases_total',
      help: 'Phrases by outcome: spoken (announced and sent), cancelled, failed',
      labelNames: ['voice', 'outcome'],
      registers,
    }),
    firstAudioSeconds: new Histogram({
      name: 'emomix_first_audio_seconds',
      help: 'From the first text of a turn to its first audio packet on the socket',
      labelNames: ['voice'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    }),
    realTimeFactor: new Histogram({
      name: 'emomix_real_time_factor',
      help: 'Synthesis time divided by audio duration, per phrase (below 1 is faster than real time)',
      labelNames: ['voice'],
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5],
      registers,
    }),
    audioSeconds: new Counter({ name: 'emomix_audio_seconds_total', help: 'Seconds of audio sent', labelNames: ['voice'], registers }),
    errors: new Counter({ name: 'emomix_errors_total', help: 'Error messages and HTTP errors by code', labelNames: ['code'], registers }),
    httpRequests: new Counter({ name: 'emomix_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers }),
  };
}

/** Phrases spoken (sent or answered) and their audio, from a session phrase by phrase or from a request at its end. */
export function countSpoken(metrics: ServerMetrics, voice: string, spoken: { phrases: number; audioMs: number; synthesisMs: number }): void {
  metrics.phrases.inc({ voice, outcome: 'spoken' }, spoken.phrases);
  metrics.audioSeconds.inc({ voice }, spoken.audioMs / 1000);
  if (spoken.audioMs > 0) metrics.realTimeFactor.observe({ voice }, spoken.synthesisMs / spoken.audioMs);
}
