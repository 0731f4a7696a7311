// One load level of the concurrency trials: `sessions` sessions each streaming its own reply
// of long and short sentences at `wordsPerSecond`, started over one second, against one server.
import { streamSession, type Start } from './client.js';
import { percentiles, type Trial } from './report.js';
import { samplePeak, type BenchServer } from './server.js';
import { mixedReply } from './texts.js';

export interface LoadPlan {
  start: Start;
  /** Words per reply. */
  words: number;
  /** When a client starts playing, in ms of audio received. */
  bufferMs: number;
}

export async function loadTrial(target: BenchServer, plan: LoadPlan, sessions: number, wordsPerSecond: number): Promise<Trial> {
  const peak = samplePeak(() => target.rss());
  const settled = await Promise.allSettled(
    Array.from({ length: sessions }, async (_, k) => {
      await new Promise((resolve) => setTimeout(resolve, (k * 1000) / sessions));
      // Each session its own lines of the corpus.
      return streamSession(target.url, plan.start, mixedReply(plan.words, k * 9 + sessions * 31), wordsPerSecond, plan.bufferMs);
    }),
  );
  const peakRssBytes = await peak.stop();
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const errors = [...settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error).message)] : [])), ...ok.flatMap((r) => r.errors)];
  const underruns = ok.reduce((n, r) => n + r.playback.underruns, 0);
  return {
    sessions,
    realtime: errors.length === 0 && underruns === 0 && ok.every((r) => r.audioSeconds > 0),
    underruns,
    drySessions: ok.filter((r) => r.playback.underruns > 0).length,
    minSlackMs: Math.min(...ok.map((r) => r.playback.minSlackMs)),
    firstAudio: percentiles(ok.map((r) => r.firstAudioMs)),
    audioSeconds: ok.reduce((s, r) => s + r.audioSeconds, 0),
    peakRssBytes,
    errors: errors.slice(0, 5),
  };
}
