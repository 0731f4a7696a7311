// The plugin's pure parts: LiveKit markup read from streamed text, the
// mood → emotion table, and written tokens aligned with spoken words.
import { tts } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { expressionMix, MOOD_EMOTIONS, UNMATCHED_LABELS } from '../src/emotions.js';
import { TTS } from '../src/tts.js';
import { MarkupReader, type MarkupPiece } from '../src/markup.js';
import { alignTokens } from '../src/transcript.js';

/** Feeds chunks one by one, then ends; adjacent text pieces are joined. */
function read(...chunks: string[]): MarkupPiece[] {
  const reader = new MarkupReader();
  const pieces = [...chunks.flatMap((c) => reader.push(c)), ...reader.end()];
  const out: MarkupPiece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (p.kind === 'text' && last?.kind === 'text') last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}

describe('MarkupReader', () => {
  it('turns expression markers into expressions and keeps the words', () => {
    expect(read('<expr type="expression" label="excited"/> Wow! <expr type="expression" label="sad"/> Oh no.')).toEqual([
      { kind: 'expression', label: 'excited' },
      { kind: 'text', text: ' Wow! ' },
      { kind: 'expression', label: 'sad' },
      { kind: 'text', text: ' Oh no.' },
    ]);
  });

  it('holds a marker cut across chunks until it is whole, without holding back the text before it', () => {
    const reader = new MarkupReader();
    expect(reader.push('Fine. <expr type="expre')).toEqual([{ kind: 'text', text: 'Fine. ' }]);
    expect(reader.push('ssion" label="calm')).toEqual([]);
    expect(reader.push('"/> Go on')).toEqual([
      { kind: 'expression', label: 'calm' },
      { kind: 'text', text: ' Go on' },
    ]);
  });

  it("reads LiveKit's converted form, and drops breaks, prosody and sounds but not their words", () => {
    expect(read('<emotion value="angry"/>Stop<break time="1s"/> <expr type="prosody" label="slow"/>now<expr type="sound" label="laugh"/>.')).toEqual([
      { kind: 'expression', label: 'angry' },
      { kind: 'text', text: 'Stop now.' },
    ]);
  });

  it('spells out a spell marker, even when it arrives a character at a time', () => {
    const text = 'Code <expr type="spell">A7X9</expr> ok';
    expect(read(text)).toEqual([{ kind: 'text', text: 'Code A 7 X 9 ok' }]);
    expect(read(...text)).toEqual([{ kind: 'text', text: 'Code A 7 X 9 ok' }]);
  });

  it('lets through what only looks like a tag', () => {
    expect(read('if a < b and <b>bold</b> or 3<', '4')).toEqual([{ kind: 'text', text: 'if a < b and <b>bold</b> or 3<4' }]);
    expect(read('an unfinished <expr type="expression"')).toEqual([{ kind: 'text', text: 'an unfinished <expr type="expression"' }]);
  });

  it('does not hold the stream behind a "<" that never closes', () => {
    const reader = new MarkupReader();
    reader.push('<a');
    const out = reader.push('x'.repeat(300));
    expect(out.map((p) => (p.kind === 'text' ? p.text : '')).join('')).toBe('<a' + 'x'.repeat(300));
  });
});

describe('expressionMix', () => {
  const five = ['neutral', 'happy', 'sad', 'angry', 'surprise'];

  it('has a mix of the five emotions for every LiveKit mood', () => {
    expect(Object.keys(MOOD_EMOTIONS).sort()).toEqual([...tts.MOOD_PRIORITY].sort());
    for (const mix of Object.values(MOOD_EMOTIONS)) {
      for (const name of Object.keys(mix)) expect(five).toContain(name);
      expect(Object.values(mix).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    }
  });

  it('maps labels through LiveKit mood matching, and emotion names to themselves', () => {
    expect(expressionMix('excited', five, 'neutral')).toEqual({ happy: 0.6, surprise: 0.4 });
    expect(expressionMix('really bright, upbeat energy', five, 'neutral')).toEqual(MOOD_EMOTIONS.excited);
    expect(expressionMix('gently concerned, caring', five, 'neutral')).toEqual(MOOD_EMOTIONS[tts.matchMood('gently concerned, caring')!]);
    expect(expressionMix('furious', five, 'neutral')).toEqual({ angry: 1 });
    expect(expressionMix('Surprise', five, 'neutral')).toEqual({ surprise: 1 });
    expect(expressionMix('like a pirate', five, 'neutral')).toEqual({ neutral: 1 });
  });

  it('gives a mood to every expression the markup instructions teach the LLM', () => {
    const instructions = new TTS({ url: 'ws://127.0.0.1:1/v1/stream' }).markup.llmInstructions()!;
    const listed = /Best results: ([^.]+)\.[\s\S]*?Also available: ([^.]+)\./.exec(instructions)!;
    const labels = `${listed[1]}, ${listed[2]}`.split(/,\s*/);
    expect(labels.length).toBeGreaterThan(30);
    const unmatched = labels.filter((label) => label !== 'neutral' && tts.matchMood(label, null) === null);
    expect(unmatched.sort()).toEqual(Object.keys(UNMATCHED_LABELS).sort());
    expect(expressionMix('confused', five, 'neutral')).toEqual(MOOD_EMOTIONS.curious);
    expect(expressionMix('neutral', five, 'neutral')).toEqual({ neutral: 1 });
  });

  it("keeps to the voice's emotions and names its neutral", () => {
    expect(expressionMix('excited', ['calm', 'happy'], 'calm')).toEqual({ happy: 0.6 });
    expect(expressionMix('curious', ['calm', 'happy'], 'calm')).toEqual({ calm: 0.6 });
    expect(expressionMix('angry', ['calm', 'happy'], 'calm')).toEqual({ calm: 1 });
  });
});

describe('alignTokens', () => {
  const w = (word: string, startMs: number, endMs: number) => ({ word, startMs, endMs });

  it('gives each written token the time of its spoken word', () => {
    expect(alignTokens('Hello there, how are you?', [w('hello', 0, 84), w('there', 84, 136), w('how', 172, 244), w('are', 244, 284), w('you', 284, 316)])).toEqual([
      { text: 'Hello ', startMs: 0, endMs: 84 },
      { text: 'there, ', startMs: 84, endMs: 136 },
      { text: 'how ', startMs: 172, endMs: 244 },
      { text: 'are ', startMs: 244, endMs: 284 },
      { text: 'you? ', startMs: 284, endMs: 316 },
    ]);
  });

  it('spreads tokens that became other words over those words', () => {
    const words = [w('doctor', 0, 100), w('smith', 100, 200), w('paid', 200, 300), w('three', 300, 400), w('dollars', 400, 500), w('fifty', 500, 600), w('cents', 600, 700), w('today', 700, 800)];
    expect(alignTokens('Dr. Smith paid $3.50 today.', words)).toEqual([
      { text: 'Dr. ', startMs: 0, endMs: 100 },
      { text: 'Smith ', startMs: 100, endMs: 200 },
      { text: 'paid ', startMs: 200, endMs: 300 },
      { text: '$3.50 ', startMs: 300, endMs: 700 },
      { text: 'today. ', startMs: 700, endMs: 800 },
    ]);
  });

  it('keeps silent tokens in the text and spoken-only words in the time', () => {
    const out = alignTokens('Wait — what 🙂', [w('wait', 10, 50), w('what', 60, 90)]);
    expect(out.map((t) => t.text).join('')).toBe('Wait — what 🙂 ');
    expect(out).toEqual([
      { text: 'Wait — ', startMs: 10, endMs: 50 },
      { text: 'what 🙂 ', startMs: 60, endMs: 90 },
    ]);
    expect(alignTokens('Wait what', [w('wait', 10, 50), w('what', 60, 90), w('um', 90, 120)])).toEqual([
      { text: 'Wait ', startMs: 10, endMs: 50 },
      { text: 'what ', startMs: 60, endMs: 120 },
    ]);
    expect(alignTokens('— Hi', [w('hi', 5, 40)])).toEqual([
      { text: '— ', startMs: 5, endMs: 5 },
      { text: 'Hi ', startMs: 5, endMs: 40 },
    ]);
    expect(alignTokens('O.K. then', [w('o', 0, 30), w('k', 30, 60), w('then', 60, 90)])).toEqual([
      { text: 'O.K. ', startMs: 0, endMs: 60 },
      { text: 'then ', startMs: 60, endMs: 90 },
    ]);
  });
});
