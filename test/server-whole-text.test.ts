// A text that arrives whole (POST /v1/speech) on a fake voice: phrases synthesized two
// at once, yielded in order, and the one ahead stopped when the caller stops.
import { describe, expect, it } from 'vitest';
import type { PhraseAudio } from '../src/server/render.js';
import { FIRST_GUESS_MS_PER_CHARACTER } from '../src/server/expected-audio.js';
import { renderText } from '../src/server/whole-text.js';
import { speechSettings } from '../src/server/speech-settings.js';
import { FakeEngine, fakeVoice, SAMPLES_PER_WORD } from './fake-voice.js';

const until = async (predicate: () => boolean): Promise<void> => {
  const end = performance.now() + 2000;
  while (!predicate()) {
    if (performance.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

function start(text: string, sampleRate = 48_000, firstAudioGraceMs = 0) {
  const engine = new FakeEngine();
  const settings = speechSettings(fakeVoice(engine), {}, 16);
  return { engine, phrases: renderText(settings, { text, maxAudioSeconds: 60, firstAudioGraceMs }, new AbortController().signal, sampleRate) };
}

describe('renderText', () => {
  it('synthesizes the next phrase while the first is slow, and yields each in order with its own audio', async () => {
    const { engine, phrases } = start('The first one goes slowly here. Then a second one. And a third.');
    const first = phrases.next();
    await until(() => engine.texts.length === 2);
    expect(engine.waiting).toBe(1);
    // The first is wanted at once, the second when the first would have played (guessed from its text).
    const [firstDue, secondDue] = engine.requests.map((r) => r.deadline!);
    expect(secondDue! - firstDue!).toBeGreaterThanOrEqual('The first one goes slowly here.'.length * FIRST_GUESS_MS_PER_CHARACTER - 5);
    engine.release();
    const spoken: PhraseAudio[] = [(await first).value as PhraseAudio];
    for await (const phrase of phrases) spoken.push(phrase);
    expect(engine.texts).toEqual(['The first one goes slowly here.', 'Then a second one.', 'And a third.']);
    expect(spoken.map((p) => p.words.map((w) => w.word).join(' '))).toEqual(['The first one goes slowly here', 'Then a second one', 'And a third']);
    expect(spoken.map((p) => p.pcm.length)).toEqual([6, 4, 3].map((n) => n * SAMPLES_PER_WORD));
  });

  it('has its first phrase due the first-audio grace after the request, and the next after that', async () => {
    const asked = performance.now();
    const { engine, phrases } = start('The first one goes slowly here. Then a second one.', 48_000, 400);
    const first = phrases.next();
    await until(() => engine.texts.length === 2);
    const [firstDue, secondDue] = engine.requests.map((r) => r.deadline!);
    expect(firstDue).toBeGreaterThanOrEqual(asked + 400);
    expect(firstDue).toBeLessThan(performance.now() + 400);
    expect(secondDue! - firstDue!).toBeGreaterThanOrEqual('The first one goes slowly here.'.length * FIRST_GUESS_MS_PER_CHARACTER - 5);
    engine.release();
    await first;
    for await (const phrase of phrases) void phrase;
  });

  it('renders at the rate its consumer takes: asked of the engine, and converted when the engine answers at the voice rate', async () => {
    const { engine, phrases } = start('Two words. And three more.', 16_000);
    const spoken: PhraseAudio[] = [];
    for await (const phrase of phrases) spoken.push(phrase);
    expect(engine.requests.map((r) => r.sampleRate)).toEqual([16_000, 16_000]);
    // The fake engine ignores the request's rate and answers at its voice's 48 kHz.
    expect(spoken.map((p) => [p.sampleRate, p.pcm.length])).toEqual([
      [16_000, Math.round((2 * SAMPLES_PER_WORD) / 3)],
      [16_000, SAMPLES_PER_WORD],
    ]);
  });

  it('stops the phrase synthesized ahead when the caller stops reading', async () => {
    const { engine, phrases } = start('A quick first one. The second goes slowly. A third.');
    await phrases.next();
    await until(() => engine.waiting === 1);
    await phrases.return(undefined);
    expect(engine.requests[1]!.signal!.aborted).toBe(true);
    expect(engine.texts).toHaveLength(2);
  });
});
