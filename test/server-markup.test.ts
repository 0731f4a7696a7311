// Emotion markup read out of streamed text: tags whole or split across any chunks
// give the same text and the same changes at the same places; bad tags are reported
// with their text and never become text.
import { describe, expect, it } from 'vitest';
import { MarkupReader, parseEmotionTag, MAX_TAG_CHARS, type MarkupItem } from '../src/server/markup.js';

/** Text with the tags and marks replaced by ⟨…⟩ at their places, as one string. */
function render(items: MarkupItem<string>[]): string {
  return items
    .map((item) =>
      item.kind === 'text' ? item.text : item.kind === 'mark' ? `⟨mark ${item.mark}⟩` : item.kind === 'tag' ? `⟨tag ${JSON.stringify(item.tag)}⟩` : `⟨bad ${item.source}⟩`,
    )
    .join('');
}

function read(chunks: string[], enabled = true): string {
  const reader = new MarkupReader<string>(enabled);
  return render([...chunks.flatMap((c) => reader.feed(c)), ...reader.end()]);
}

describe('parseEmotionTag', () => {
  it('reads a single emotion, a weighted mix, intensity and ramp', () => {
    expect(parseEmotionTag('[emotion=happy]')).toEqual({ kind: 'set', weights: { happy: 1 }, intensity: 1, rampMs: 0 });
    expect(parseEmotionTag('[emotion = happy:0.7, surprise:0.3 intensity=0.5 ramp=400]')).toEqual({
      kind: 'set',
      weights: { happy: 0.7, surprise: 0.3 },
      intensity: 0.5,
      rampMs: 400,
    });
    expect(parseEmotionTag('[/emotion]')).toEqual({ kind: 'base', rampMs: 0 });
    expect(parseEmotionTag('[/emotion ramp=800]')).toEqual({ kind: 'base', rampMs: 800 });
    expect(parseEmotionTag('[EMOTION=Sad]')).toEqual({ kind: 'set', weights: { Sad: 1 }, intensity: 1, rampMs: 0 });
  });

  it.each([
    ['[emotion]', /expected =name/],
    ['[emotion=]', /expected =name/],
    ['[emotion=happy:-1]', /not a number/],
    ['[emotion=happy:0]', /greater than 0/],
    ['[emotion=happy intensity=2]', /out of range/],
    ['[emotion=happy ramp=9999999]', /out of range/],
    ['[emotion=happy speed=2]', /unknown attribute "speed"/],
    ['[emotion=ha ppy]', /not key=value/],
    ['[/emotion intensity=0.5]', /unknown attribute "intensity"/],
    ['[emotion=happy:1:2]', /not name or name:weight/],
  ])('refuses %s', (source, reason) => {
    expect(() => parseEmotionTag(source)).toThrow(reason);
  });
});

describe('MarkupReader', () => {
  const text = 'I am so glad [emotion=sad ramp=200]but [b] [emotional] news [/emotion]ends.';
  const whole = read([text]);

  it('takes tags out where they stand and leaves other brackets as text', () => {
    expect(whole).toBe(
      'I am so glad ⟨tag {"kind":"set","weights":{"sad":1},"intensity":1,"rampMs":200}⟩but [b] [emotional] news ⟨tag {"kind":"base","rampMs":0}⟩ends.',
    );
  });

  it('gives the same result character by character and at every two-way split', () => {
    expect(read([...text])).toBe(whole);
    for (let cut = 0; cut <= text.length; cut++) expect(read([text.slice(0, cut), text.slice(cut)])).toBe(whole);
  });

  it('passes everything through when disabled', () => {
    expect(read([...text], false)).toBe(text);
  });

  it('reports a malformed tag with its text, which is not spoken', () => {
    expect(read(['Hi [emotion=happy:x] there'])).toBe('Hi ⟨bad [emotion=happy:x]⟩ there');
    expect(read([...'Hi [emotion=happy:x] there'])).toBe('Hi ⟨bad [emotion=happy:x]⟩ there');
  });

  it('reports an unterminated tag at the end, but a mere prefix of one is text', () => {
    expect(read(['Bye [emotion=sad'])).toBe('Bye ⟨bad [emotion=sad⟩');
    expect(read(['Bye [emo'])).toBe('Bye [emo');
  });

  it('bounds a tag that never closes', () => {
    const long = `[emotion=${'a'.repeat(400)}`;
    const out = read([long]);
    expect(out.startsWith(`⟨bad [emotion=${'a'.repeat(MAX_TAG_CHARS - 9)}⟩`)).toBe(true);
    expect(out.endsWith('a'.repeat(400 - (MAX_TAG_CHARS - 9)))).toBe(true);
  });

  it('puts an emotion message that arrives while a tag may be opening after the held characters', () => {
    const reader = new MarkupReader<string>(true);
    const items = [...reader.feed('so [e'), ...reader.mark('M'), ...reader.feed('x] on'), ...reader.end()];
    expect(render(items)).toBe('so [e⟨mark M⟩x] on');
    const tagged = new MarkupReader<string>(true);
    const tagItems = [...tagged.feed('so [emotion=sa'), ...tagged.mark('M'), ...tagged.feed('d] on')];
    expect(render(tagItems)).toBe('so ⟨tag {"kind":"set","weights":{"sad":1},"intensity":1,"rampMs":0}⟩⟨mark M⟩ on');
  });

  it('keeps one waiting mark per place while a tag may be opening', () => {
    const reader = new MarkupReader<string>(true);
    const items = reader.feed('so [emo');
    for (let k = 0; k < 10_000; k++) items.push(...reader.mark(`m${k}`));
    expect(render([...items, ...reader.feed('x'), ...reader.end()])).toBe('so [emo⟨mark m9999⟩x');
  });
});
