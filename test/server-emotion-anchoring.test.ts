// Emotion follows the words: an `emotion` message or a markup tag between two words of
// one phrase changes the mix from the next word on, whatever the delivery (all at once,
// token by token, with random delays), and a tag split into 1-character messages acts
// exactly like the same tag whole. Bad tags are reported and never spoken; every
// character is still accounted for.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSITION_MS } from '../src/pipeline/synthesis/index.js';
import { serveFixture, sleep, TestClient, wordsOf, type Message } from './server-harness.js';

const fixture = serveFixture();

// One sentence of five words: however it arrives, it is cut only at \`end\` (too short for
// the early first-phrase cut, and nothing is spoken before it, so the server has no reason
// to hurry a cut), and the change falls inside it, before "lost" (its word 3).
const BEFORE = 'So glad you ';
const AFTER = 'lost everything.';
const PHRASE = 'So glad you lost everything.';
const WORD = 3;
const SAD = { type: 'emotion', weights: { sad: 1 } } as const;

type Step = string | Record<string, unknown>;

/** One pcm16 session at seed 7, starting happy: the steps in order, then `end`; every message it got. */
async function speak(steps: Step[], options: { delays?: boolean; start?: Record<string, unknown> } = {}): Promise<Message[]> {
  const client = await TestClient.connect(fixture.ws);
  await client.start({ format: 'pcm16', seed: 7, emotion: { happy: 1 }, ...options.start });
  let random = 12345;
  for (const step of steps) {
    client.send(typeof step === 'string' ? { type: 'text', text: step } : step);
    if (options.delays) {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      await sleep(random % 60);
    }
  }
  client.send({ type: 'end' });
  await client.next('done', 60_000);
  return client.messages;
}

const chars = (text: string): string[] => [...text];
const audioBytes = (messages: Message[], phrase?: number): Buffer =>
  Buffer.concat(messages.filter((m) => m.type === 'audio' && (phrase === undefined || m.phrase === phrase)).flatMap((m) => m.packets as Uint8Array[]));
const phrases = (messages: Message[]) => messages.filter((m) => m.type === 'phrase');

describe('emotion anchored in the text', () => {
  it('switches inside the phrase at the next word, with the same audio for every delivery', async () => {
    const whole = await speak([BEFORE, SAD, AFTER]);
    const tokens = await speak([...chars(BEFORE), SAD, ...chars(AFTER)]);
    const delayed = await speak([...chars(BEFORE), SAD, ...chars(AFTER)], { delays: true });

    for (const messages of [whole, tokens, delayed]) {
      expect(phrases(messages).map((p) => p.text)).toEqual([PHRASE]);
      expect(messages.filter((m) => m.type === 'error')).toEqual([]);
    }
    expect(audioBytes(tokens).equals(audioBytes(whole))).toBe(true);
    expect(audioBytes(delayed).equals(audioBytes(whole))).toBe(true);

    const phrase = phrases(whole)[0]!;
    expect(phrase.emotion).toEqual({ happy: 1 });
    expect(phrase.segments).toHaveLength(2);
    expect(phrase.segments[0]).toEqual({ word: 0, startMs: phrase.startMs, emotion: { happy: 1 } });
    const switched = phrase.segments[1];
    expect(switched).toMatchObject({ word: WORD, emotion: { happy: 1 }, ramp: { to: { sad: 1 } } });
    // It takes over where "you" ends, and its transition is the default 100 ms.
    expect(switched.startMs).toBe(phrase.words[WORD - 1].endMs);
    expect(switched.ramp.endMs - switched.ramp.startMs).toBe(DEFAULT_TRANSITION_MS);
    for (const word of phrase.words.slice(0, WORD)) expect(word.emotion).toEqual({ happy: 1 });
    // After it each word reports the mix at its middle, on the way to sad.
    for (const word of phrase.words.slice(WORD)) {
      const sad = Math.min(1, ((word.startMs + word.endMs) / 2 - switched.startMs) / DEFAULT_TRANSITION_MS);
      expect(word.emotion.sad).toBeCloseTo(sad, 9);
      expect(word.emotion.happy ?? 0).toBeCloseTo(1 - sad, 9);
    }
    expect(phrase.words.at(-1).emotion.sad).toBeGreaterThan(0.5);
  });

  it('leaves the words before the change timed as in the all-happy rendering (their sound: runtime-emotion-anchoring.test.ts)', async () => {
    const changed = await speak([BEFORE, SAD, AFTER]);
    const happy = await speak([BEFORE, AFTER]);
    const [a, b] = [phrases(changed)[0]!, phrases(happy)[0]!];
    // Durations of the earlier words come from their own (happy) encoder row: identical.
    expect(a.words.slice(0, WORD)).toEqual(b.words.slice(0, WORD));
    expect(a.words.at(-1).endMs).not.toBe(b.words.at(-1).endMs);
  });

  it('treats a tag split into 1-character messages exactly like the same tag whole, and like an emotion message', async () => {
    const tagged = `${BEFORE}[emotion=sad]${AFTER}`;
    const whole = await speak([tagged], { start: { markup: true } });
    const split = await speak(chars(tagged), { start: { markup: true } });
    const message = await speak([BEFORE, SAD, AFTER]);
    for (const messages of [whole, split]) {
      expect(messages.filter((m) => m.type === 'error')).toEqual([]);
      expect(phrases(messages).map((p) => p.text)).toEqual([PHRASE]);
    }
    expect(audioBytes(split).equals(audioBytes(whole))).toBe(true);
    expect(audioBytes(whole).equals(audioBytes(message))).toBe(true);
  });

  it('without markup, brackets are text', async () => {
    const messages = await speak(['He said [emotion=sad] twice.']);
    expect(phrases(messages).map((p) => p.text)).toEqual(['He said [emotion=sad] twice.']);
  });

  it('reports malformed, unknown and unterminated tags with their text, speaks none of them, and loses nothing else', async () => {
    const text = 'One [emotion=joy] two [emotion=happy:x] three [emotion=sad intensity=0.5 ramp=100] four [/emotion] five. Six [emotion=angry';
    const messages = await speak(chars(text), { start: { markup: true } });
    const errors = messages.filter((m) => m.type === 'error');
    expect(errors.map((e) => [e.code, e.fatal, e.field, e.text])).toEqual([
      ['bad_markup', false, 'text', '[emotion=joy]'],
      ['bad_markup', false, 'text', '[emotion=happy:x]'],
      ['bad_markup', false, 'text', '[emotion=angry'],
    ]);
    expect(errors[2]!.message).toMatch(/unterminated/);
    const spoken = phrases(messages).map((p) => p.text).join(' ');
    expect(wordsOf(spoken)).toEqual(wordsOf('One two three four five. Six'));
    const four = phrases(messages)[0]!;
    // "four" is word 3: from there sad at intensity 0.5 (half neutral) over 100 ms; "five" back to happy.
    expect(four.segments.map((s: Message) => s.word)).toEqual([0, 3, 4]);
    expect(four.segments[1].ramp).toMatchObject({ to: { sad: 0.5, neutral: 0.5 } });
    expect(four.segments[1].ramp.endMs - four.segments[1].ramp.startMs).toBe(100);
    expect(four.segments[2].ramp.to).toEqual({ happy: 1 });
    expect(messages.at(-1)!.type).toBe('done');
  });

  it('reports a tag left open at flush, and the session goes on with the text after it', async () => {
    const client = await TestClient.connect(fixture.ws);
    await client.start({ format: 'pcm16', markup: true, emotion: { happy: 1 } });
    for (const c of 'First turn. [emotion=sad') client.send({ type: 'text', text: c });
    client.send({ type: 'flush' });
    const error = await client.next('error');
    expect(error).toMatchObject({ code: 'bad_markup', fatal: false, field: 'text', text: '[emotion=sad' });
    await client.next('flushed');
    client.send({ type: 'text', text: 'Second turn.' });
    client.send({ type: 'end' });
    await client.next('done');
    expect(phrases(client.messages).map((p) => [p.text, p.emotion])).toEqual([
      ['First turn.', { happy: 1 }],
      ['Second turn.', { happy: 1 }],
    ]);
  });

  it('accounts for every character on cancel: phrases spoken or cut, and text never announced (tags are not text)', async () => {
    const client = await TestClient.connect(fixture.ws);
    await client.start({ format: 'pcm16', markup: true, pacing: 'realtime' });
    const text = 'First part is here. [emotion=sad]Then a sad second sentence. And a third one [emotion=happy]that never comes. [emot';
    for (const c of text) client.send({ type: 'text', text: c });
    await client.next('audio');
    client.send({ type: 'cancel' });
    const cancelled = await client.next('cancelled');
    client.send({ type: 'end' });
    await client.next('done');
    const announced = phrases(client.messages);
    const all = [...announced.map((p) => p.text), cancelled.text].join(' ');
    expect(wordsOf(all)).toEqual(wordsOf('First part is here. Then a sad second sentence. And a third one that never comes. [emot'));
  });

  it('keeps the last emotion sent in force after a cancel', async () => {
    const client = await TestClient.connect(fixture.ws);
    await client.start({ format: 'pcm16', emotion: { happy: 1 } });
    client.send({ type: 'text', text: 'Something long enough to be under way' });
    client.send(SAD);
    client.send({ type: 'cancel' });
    await client.next('cancelled');
    client.send({ type: 'text', text: 'After the barge-in.' });
    client.send({ type: 'end' });
    await client.next('done');
    expect(phrases(client.messages).at(-1)!.emotion).toEqual({ sad: 1 });
  });
});
