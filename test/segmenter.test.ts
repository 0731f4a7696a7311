import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, throwError, concat, toArray } from 'rxjs';
import { createPhraseSegmenter, DEFAULT_SEGMENTER_OPTIONS, earlyCutOptions, segmentPhrases, type SegmenterOptions } from '../src/pipeline/segmenter.js';
import { spokenTokens } from '../src/pipeline/frontend/spoken-form.js';

const NO_EARLY: SegmenterOptions = { earlyFirstPhrase: false };

function whole(text: string, options: SegmenterOptions = {}): string[] {
  const s = createPhraseSegmenter(options);
  return [...s.push(text), ...s.flush()];
}

function pieces(chunks: Iterable<string>, options: SegmenterOptions = {}): string[] {
  const s = createPhraseSegmenter(options);
  const out: string[] = [];
  for (const chunk of chunks) out.push(...s.push(chunk));
  return [...out, ...s.flush()];
}

const byChar = (text: string, options: SegmenterOptions = {}) => pieces(Array.from(text), options);

/** LLM-like tokens: chunks of 1–5 characters from a seeded generator, so some cut words and numbers in half. */
function tokens(text: string, seed: number): string[] {
  const out: string[] = [];
  let a = seed >>> 0;
  for (let i = 0; i < text.length; ) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const n = 1 + (a >>> 29) % 5;
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean);

const PARAGRAPHS = [
  'Dr. Smith paid $1,000.50 on Jan. 3 for 3.14 kg of apples, e.g. the red ones. Then he left! Did he? Yes.',
  'The quick brown fox jumps over the lazy dog. It was not just fast—it was astonishing, really; nobody had seen anything like it before that day.',
  'Visit https://example.com/a?b=c,d or mail john.doe@example.com. The U.S. Army arrived at 5 p.m. on time… Or did it?!',
  '1. Preheat the oven. 2. Mix flour and sugar, then add the eggs one at a time while stirring gently, scraping the bowl.',
  '"Stop!" she said. (It was late.) He replied: "I know…" and went home; nobody followed him that night, not even the dog.',
  'Well — I think so. Maybe not -- who knows? J. R. R. Tolkien wrote it in 1937, i.e. long ago, etc. and so on.',
  'one two three four five six seven eight, nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five twenty-six thirty-two.',
  'Line one ends here.\n\nA new paragraph starts\nwithout punctuation',
];

describe('phrase segmenter: sentence ends', () => {
  it('cuts a paragraph at sentence ends', () => {
    expect(whole('Hello there. How are you? I am fine! Thanks.', NO_EARLY)).toEqual([
      'Hello there.',
      'How are you?',
      'I am fine!',
      'Thanks.',
    ]);
  });

  it('recognises ellipses, runs of marks and unicode forms', () => {
    expect(whole('Wait… What?! No way‼ Really⁉ Fine... 好的。 Sure？ Done．', NO_EARLY)).toEqual([
      'Wait…',
      'What?!',
      'No way‼',
      'Really⁉',
      'Fine...',
      '好的。',
      'Sure？',
      'Done．',
    ]);
  });

  it('keeps closing quotes and brackets with the sentence end', () => {
    expect(whole('He said "Go home." Then (after a while.) She left.’ Later» Done.')).toEqual([
      'He said "Go home."',
      'Then (after a while.)',
      'She left.’',
      'Later» Done.',
    ]);
  });

  it('does not end a sentence before a lowercase word', () => {
    expect(whole('"Stop!" she said. "I know…" and he went home.')).toEqual(['"Stop!" she said.', '"I know…" and he went home.']);
  });

  it('cuts CJK text after its full stops without spaces', () => {
    expect(whole('你好。世界很大！我们走吧', NO_EARLY)).toEqual(['你好。', '世界很大！', '我们走吧']);
  });

  it('keeps newlines as plain whitespace between words', () => {
    expect(whole('Line one ends here.\n\nA new paragraph\nstarts.')).toEqual(['Line one ends here.', 'A new paragraph\nstarts.']);
  });
});

describe('phrase segmenter: never inside numbers, abbreviations, URLs, addresses', () => {
  it('does not cut after titles and common abbreviations', () => {
    expect(whole('Dr. Who met Mr. and Mrs. Smith on Baker St. at noon vs. the clock. Then tea.')).toEqual([
      'Dr. Who met Mr. and Mrs. Smith on Baker St. at noon vs. the clock.',
      'Then tea.',
    ]);
  });

  it('does not cut after e.g., i.e., etc., U.S. or p.m.', () => {
    expect(whole('Fruit, e.g. Apples, i.e. Red ones, etc. Are sold in the U.S. Every day at 5 p.m. Sharp. End.', NO_EARLY)).toEqual([
      'Fruit, e.g. Apples, i.e. Red ones, etc. Are sold in the U.S. Every day at 5 p.m. Sharp.',
      'End.',
    ]);
  });

  it('does not cut after initials', () => {
    expect(whole('J. R. R. Tolkien wrote it. Done.')).toEqual(['J. R. R. Tolkien wrote it.', 'Done.']);
  });

  it('never splits decimals, even when "3." arrives before "14"', () => {
    expect(pieces(['It is 3.', '14 and 2.', '5 too. Ok.'])).toEqual(['It is 3.14 and 2.5 too.', 'Ok.']);
  });

  it('never splits thousands separators, even with clause cuts after every word', () => {
    expect(pieces(['We paid 1,', '000,', '000 dollars, yes.'], { minClauseWords: 1 })).toEqual([
      'We paid 1,000,000 dollars,',
      'yes.',
    ]);
  });

  it('treats a list number opening a phrase as a marker, a number ending a sentence as an end', () => {
    expect(whole('1. Preheat the oven. 2. Mix. I counted to 10. Then stopped.')).toEqual([
      '1. Preheat the oven.',
      '2. Mix.',
      'I counted to 10.',
      'Then stopped.',
    ]);
  });

  it('never splits URLs and e-mail addresses, and still ends the sentence after them', () => {
    const text = 'See https://x.org/a.b?c=d,e;f:g—h, or mail jane.doe@mail.example.com. Next one.';
    expect(whole(text, { minClauseWords: 1 })).toEqual([
      'See https://x.org/a.b?c=d,e;f:g—h,',
      'or mail jane.doe@mail.example.com.',
      'Next one.',
    ]);
  });
});

describe('phrase segmenter: clause marks and length limits', () => {
  it('cuts at a comma only once the phrase is long enough', () => {
    const text = 'Yes, of course, one two three four five, six seven eight nine ten.';
    expect(whole(text, NO_EARLY)).toEqual(['Yes, of course, one two three four five,', 'six seven eight nine ten.']);
  });

  it('honours minClauseWords', () => {
    expect(whole('Yes, of course, we can.', { ...NO_EARLY, minClauseWords: 1 })).toEqual(['Yes,', 'of course,', 'we can.']);
  });

  it('cuts at semicolons, colons, spaced dashes and double hyphens', () => {
    const o = { ...NO_EARLY, minClauseWords: 2 };
    expect(whole('First part here; second part: third part — fourth part - fifth part-- sixth part', o)).toEqual([
      'First part here;',
      'second part:',
      'third part —',
      'fourth part -',
      'fifth part--',
      'sixth part',
    ]);
  });

  it('cuts right after an unspaced em dash', () => {
    expect(whole('It is not just fast—it is astonishing.', { ...NO_EARLY, minClauseWords: 3 })).toEqual([
      'It is not just fast—',
      'it is astonishing.',
    ]);
  });

  it('forces a cut at maxWords, at a word boundary', () => {
    const text = Array.from({ length: 25 }, () => 'echo').join(' ');
    const phrases = whole(text, { ...NO_EARLY, maxWords: 10 });
    expect(phrases.map((p) => words(p).length)).toEqual([10, 10, 5]);
    expect(phrases.join(' ')).toBe(text);
  });

  it('forces a cut before a word that would pass maxChars', () => {
    const phrases = whole('aaaa bbbb cccc dddd eeee ffff', { ...NO_EARLY, maxChars: 12 });
    expect(phrases).toEqual(['aaaa bbbb', 'cccc dddd', 'eeee ffff']);
    expect(phrases.every((p) => p.length <= 12)).toBe(true);
  });

  it('emits a single word longer than maxChars whole', () => {
    const long = 'x'.repeat(40);
    expect(byChar(`ab ${long} cd`, { ...NO_EARLY, maxChars: 10 })).toEqual(['ab', long, 'cd']);
  });

  it('cuts at maxChars the same way whether the long word arrives whole or in pieces', () => {
    const text = 'one two three four fivefivefive six';
    const o = { ...NO_EARLY, maxChars: 20 };
    expect(byChar(text, o)).toEqual(whole(text, o));
    expect(whole(text, o)).toEqual(['one two three four', 'fivefivefive six']);
  });
});

describe('phrase segmenter: streaming', () => {
  it('does not cut a word that may still be growing', () => {
    const s = createPhraseSegmenter(NO_EARLY);
    expect(s.push('Hello world.')).toEqual([]);
    expect(s.push(' ')).toEqual([]); // the next word decides between "world. Next" and "world. next"
    expect(s.push('N')).toEqual(['Hello world.']);
    expect(s.push('ext')).toEqual([]);
    expect(s.flush()).toEqual(['Next']);
  });

  it('gives the same phrases whole, character by character and token by token (early cut off)', () => {
    for (const text of PARAGRAPHS) {
      const expected = whole(text, NO_EARLY);
      expect(byChar(text, NO_EARLY)).toEqual(expected);
      for (const seed of [1, 2, 3, 42]) expect(pieces(tokens(text, seed), NO_EARLY)).toEqual(expected);
    }
  });

  it('loses and duplicates no text, and splits words only after an inner dash or CJK mark, however it is fed', () => {
    // Inner breaks are the only cuts inside a run of non-space text; spacing them makes both sides comparable.
    const spaced = (t: string) => words(t.replace(/([—。！？，、；：｡]+["'”’)\]]*)(?=\S)/gu, '$1 '));
    for (const text of PARAGRAPHS) {
      for (const phrases of [whole(text), byChar(text), pieces(tokens(text, 7)), pieces(tokens(text, 9), { maxChars: 30 })]) {
        expect(spaced(phrases.join(' '))).toEqual(spaced(text));
        expect(phrases.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
        expect(phrases.every((p) => p === p.trim() && p.length > 0)).toBe(true);
      }
    }
  });

  it('splits words only where the text itself allows', () => {
    const text = PARAGRAPHS.slice(0, 6).join(' ');
    const phrases = byChar(text, { minClauseWords: 1, maxWords: 12 });
    expect(words(phrases.join(' ').replace(/—(?=\S)/gu, '— '))).toEqual(words(text.replace(/—(?=\S)/gu, '— ')));
    expect(phrases.some((p) => p.endsWith('fast—'))).toBe(true);
  });

  it('flush emits the trimmed rest, nothing for whitespace, and resets', () => {
    const s = createPhraseSegmenter();
    expect(s.push('  half a')).toEqual([]);
    expect(s.buffered).toBe('  half a');
    expect(s.flush()).toEqual(['half a']);
    expect(s.buffered).toBe('');
    expect(s.push(' \n\t ')).toEqual([]);
    expect(s.flush()).toEqual([]);
    expect(s.flush()).toEqual([]);
  });

  it('reports buffered text not yet emitted', () => {
    const s = createPhraseSegmenter(NO_EARLY);
    s.push('One. Two');
    s.push(' three');
    expect(s.buffered).toBe(' Two three');
  });

  it('rejects invalid options', () => {
    expect(() => createPhraseSegmenter({ maxWords: 0 })).toThrow(RangeError);
    expect(() => createPhraseSegmenter({ minClauseWords: 2.5 })).toThrow(RangeError);
    expect(() => createPhraseSegmenter({ maxChars: Number.NaN })).toThrow(RangeError);
    expect(() => createPhraseSegmenter({ firstPhraseWords: Infinity })).not.toThrow();
  });
});

describe('phrase segmenter: early first phrase', () => {
  it("takes the server's --early-cut-words as one number: the words before a cut, 0 for none", () => {
    const text = 'I walked the whole way home because the buses had all stopped running.';
    expect(byChar(text, earlyCutOptions(6))).toEqual(['I walked the whole way home', 'because the buses had all stopped running.']);
    expect(byChar(text, earlyCutOptions(7))).toEqual([text]);
    expect(byChar(text, earlyCutOptions(0))).toEqual([text]);
    const s = createPhraseSegmenter(earlyCutOptions(0));
    s.push('I walked the whole way home because the buses had ');
    expect(s.hurry()).toEqual([]);
    expect(byChar('Well, you know, nobody really likes cold soup.', earlyCutOptions(3))).toEqual(['Well, you know,', 'nobody really likes cold soup.']);
    expect(byChar('Well, you know, nobody really likes cold soup.', earlyCutOptions(5))).toEqual(['Well, you know, nobody really likes cold soup.']);
    expect(() => earlyCutOptions(-1)).toThrow(RangeError);
  });

  it('cuts the first phrase at a clause mark after 3 words once 3 more words have arrived', () => {
    expect(byChar('Well, you know, I think we should probably go home now.')).toEqual([
      'Well, you know,',
      'I think we should probably go home now.',
    ]);
    const s = createPhraseSegmenter();
    expect(s.push('Well, you know, I ')).toEqual([]);
    expect(s.push('think ')).toEqual([]);
    expect(s.push('w')).toEqual(['Well, you know,']);
  });

  it('cuts before a conjunction or preposition after 4 words, never at an arbitrary word', () => {
    const s = createPhraseSegmenter();
    expect(s.push('The birch canoe slid on the ')).toEqual([]);
    expect(s.push('s')).toEqual(['The birch canoe slid']);
    expect(s.flush()).toEqual(['on the s']);
    expect(byChar('I walked the whole way home because the buses had all stopped running.')).toEqual([
      'I walked the whole way home',
      'because the buses had all stopped running.',
    ]);
    // No pause point: no early cut; the natural rules (clause mark, maxWords) decide.
    expect(byChar('My little brother really likes big red apples')).toEqual(['My little brother really likes big red apples']);
  });

  it('never leaves a word or two after the cut to be spoken alone', () => {
    expect(byChar('The birch canoe slid on planks.')).toEqual(['The birch canoe slid on planks.']);
    expect(byChar('The birch canoe slid on the planks.')).toEqual(['The birch canoe slid', 'on the planks.']);
    expect(byChar('Thank you so much, my friend.')).toEqual(['Thank you so much, my friend.']);
  });

  it('speaks a sentence whose end is already buffered whole', () => {
    const s = createPhraseSegmenter();
    expect(s.push('The birch canoe slid on the smooth planks.')).toEqual([]);
    expect(s.flush()).toEqual(['The birch canoe slid on the smooth planks.']);
    const t = createPhraseSegmenter();
    expect(t.push('Well, you know, I think we should probably go home now.')).toEqual([]);
    expect(t.push(' S')).toEqual(['Well, you know, I think we should probably go home now.']);
    expect(whole('The quick brown fox jumps over the lazy dog. It sleeps.')).toEqual([
      'The quick brown fox jumps over the lazy dog.',
      'It sleeps.',
    ]);
  });

  it('cuts at the earliest qualifying pause when a long unpunctuated chunk arrives', () => {
    const s = createPhraseSegmenter();
    expect(s.push('one two three four and five six seven eight')).toEqual(['one two three four']);
    expect(s.flush()).toEqual(['and five six seven eight']);
  });

  it('speaks a short opening sentence with the text after it, up to that text\'s first cut', () => {
    // "Enough!" alone would play out before the next sentence has arrived at 10 words/s.
    expect(byChar('Enough! I won\'t hear another word. Why does this app keep crashing?')).toEqual(["Enough! I won't hear another word.", 'Why does this app keep crashing?']);
    // Its end is a pause point like a clause mark, counted from the phrase's start.
    expect(pieces(['Yes, please. ', 'And then we ', 'walked home ', 'through the park ', 'at night.'])).toEqual(['Yes, please. And then we walked home', 'through the park at night.']);
    // Three words are a phrase of their own; so is any opening once the stream has ended, and later sentences.
    expect(byChar('Yes, of course. We could go.')).toEqual(['Yes, of course.', 'We could go.']);
    expect(whole('Sure! No.')).toEqual(['Sure!', 'No.']);
    expect(byChar('I see it now. Good! Then we go.')).toEqual(['I see it now.', 'Good!', 'Then we go.']);
    // Whole sentences only, as --early-cut-words 0 asks: the opening is not joined either.
    expect(byChar('Enough! I won\'t hear another word.', NO_EARLY)).toEqual(['Enough!', "I won't hear another word."]);
    expect(byChar('Enough! I won\'t hear it.', { minFirstSentenceWords: 1 })).toEqual(['Enough!', "I won't hear it."]);
  });

  it('cuts a short opening at its end when hurried: the text after it has stopped coming', () => {
    const s = createPhraseSegmenter();
    expect(s.push('Hello there. ')).toEqual([]);
    expect(s.hurry()).toEqual(['Hello there.']);
    expect(s.push('We could try the old road. ')).toEqual([]);
    expect(s.push('Then')).toEqual(['We could try the old road.']);
    // Not before its end is known: "there" may yet go on.
    const t = createPhraseSegmenter();
    expect(t.push('Hello there')).toEqual([]);
    expect(t.hurry()).toEqual([]);
    expect(t.push('. Then')).toEqual(['Hello there.']);
  });

  it('applies only to the first phrase of a stream, and again after flush', () => {
    const s = createPhraseSegmenter();
    const out: string[] = [];
    for (const c of 'Hi, it is me. The old man walked home through the park at night.') out.push(...s.push(c));
    expect(out).toEqual(['Hi, it is me.']);
    expect(s.flush()).toEqual(['The old man walked home through the park at night.']);
    const again: string[] = [];
    for (const c of 'The old man walked home through the park at night.') again.push(...s.push(c));
    expect(again).toEqual(['The old man walked home']);
  });

  it('hurry cuts a later phrase at its next pause point, now or as soon as one arrives', () => {
    const s = createPhraseSegmenter();
    expect(s.push('Hi, it is me. We could try the old road')).toEqual(['Hi, it is me.']);
    expect(s.hurry()).toEqual([]);
    expect(s.push(' through the dark wood and ')).toEqual(['We could try the old road']);
    // One early cut per hurry: the rest waits for the natural rules again.
    expect(s.push('then over the ')).toEqual([]);
    expect(s.hurry()).toEqual(['through the dark wood']);
    expect(s.flush()).toEqual(['and then over the']);
  });

  it('hurry finds pause points before subject pronouns and rarer prepositions in a long clause', () => {
    const s = createPhraseSegmenter();
    expect(s.push('Sure, I can. If we leave the harbour before the tide turns we could follow the coast road past the')).toEqual(['Sure, I can.']);
    expect(s.hurry()).toEqual(['If we leave the harbour']);
    expect(s.hurry()).toEqual(['before the tide turns']);
    expect(s.hurry()).toEqual([]); // "past the" is only two words: the tail must be three
    expect(s.push(' lighthouse')).toEqual(['we could follow the coast road']);
    // Object pronouns bind to their verb: no pause before "it" or "you".
    const t = createPhraseSegmenter();
    expect(t.push('Hi, it is me. Please could you give it back to you soon')).toEqual(['Hi, it is me.']);
    expect(t.hurry()).toEqual([]);
  });

  it('forgets a hurry once any cut has been made', () => {
    const s = createPhraseSegmenter();
    expect(s.push('Hi, it is me. We could')).toEqual(['Hi, it is me.']);
    expect(s.hurry()).toEqual([]);
    expect(s.push(' go. And then we walked home through the park ')).toEqual(['We could go.']);
    expect(s.push('at night')).toEqual([]);
  });

  it('looks at a bounded number of words however long the buffer', () => {
    const s = createPhraseSegmenter({ maxWords: Infinity, maxChars: Infinity });
    const long = Array.from({ length: 20000 }, (_, i) => `w${i}`).join(' ');
    expect(s.push(long)).toEqual([]);
    expect(s.hurry()).toEqual([]);
  });

  it('can be disabled or tuned', () => {
    expect(byChar('The birch canoe slid on the smooth planks today.', NO_EARLY)).toEqual(['The birch canoe slid on the smooth planks today.']);
    expect(byChar('The birch canoe slid on the smooth planks today.', { firstPhraseWords: 5 })).toEqual([
      'The birch canoe slid on the smooth planks today.',
    ]);
    expect(byChar('Yes, so, we go now.', { firstClauseWords: 1, minTailWords: 1 })).toEqual(['Yes,', 'so, we go now.']);
    expect(() => createPhraseSegmenter({ minTailWords: 0 })).toThrow(RangeError);
  });

  it('realigns with whole-text segmentation from the first sentence end on', () => {
    for (const text of PARAGRAPHS) {
      const w = whole(text);
      const c = byChar(text);
      const t = pieces(tokens(text, 5));
      // Same phrases from the first phrase that follows a sentence end in all three.
      const tail = (phrases: string[]) => {
        const i = phrases.findIndex((p) => /[.!?…。！？]["'”’)\]]*$/u.test(p));
        return i < 0 ? [] : phrases.slice(i + 1);
      };
      expect(tail(c)).toEqual(tail(w));
      expect(tail(t)).toEqual(tail(w));
    }
  });
});

describe('segmentPhrases operator', () => {
  it('emits phrases as tokens arrive and flushes the rest on completion', async () => {
    const text = PARAGRAPHS[1] as string;
    const out = await lastValueFrom(from(tokens(text, 3)).pipe(segmentPhrases(), toArray()));
    expect(out).toEqual(pieces(tokens(text, 3)));
    expect(out.at(-1)?.endsWith('before that day.')).toBe(true);
  });

  it('keeps a separate segmenter per subscription', async () => {
    const phrases$ = from(['one two three four and five six']).pipe(segmentPhrases());
    const a = await lastValueFrom(phrases$.pipe(toArray()));
    const b = await lastValueFrom(phrases$.pipe(toArray()));
    expect(a).toEqual(['one two three four', 'and five six']);
    expect(b).toEqual(a);
  });

  it('passes errors on without flushing', () => {
    const seen: string[] = [];
    let error: unknown;
    concat(from(['Hello there. Unfinished']), throwError(() => new Error('llm failed')))
      .pipe(segmentPhrases(NO_EARLY))
      .subscribe({ next: (p) => seen.push(p), error: (e: unknown) => (error = e) });
    expect(seen).toEqual(['Hello there.']);
    expect((error as Error).message).toBe('llm failed');
  });
});

describe('phrase segmenter: words that cost more than they weigh', () => {
  const spoken = (phrase: string) => spokenTokens(phrase).filter((t) => t.kind !== 'punct').length;
  // A kilobyte that read as 267 s of audio in one phrase, and the tokens that held a session for 60 s.
  const HOSTILE = {
    digits: '7'.repeat(1000),
    url: `https://example.com/${'ab/cd.ef?g=h&'.repeat(460)}`,
    mixed: 'a1b2c3d4e5'.repeat(800),
    cardinals: Array.from({ length: 30 }, () => '123,456,789,012,345,678,901').join(' '),
  };

  it('cuts a long token every maxTokenChars characters, and reads no phrase as more than maxWords words, however it is fed', () => {
    for (const [name, text] of Object.entries(HOSTILE)) {
      const fed = [whole(text), byChar(text.slice(0, 3000)).concat(whole(text.slice(3000))), pieces(tokens(text, 5))];
      for (const phrases of fed) {
        expect(phrases.join('').replace(/\s+/g, ''), name).toBe(text.replace(/\s+/g, ''));
        expect(Math.max(...phrases.map(spoken)), name).toBeLessThanOrEqual(DEFAULT_SEGMENTER_OPTIONS.maxWords);
        expect(Math.max(...phrases.map((p) => p.length)), name).toBeLessThanOrEqual(DEFAULT_SEGMENTER_OPTIONS.maxChars + DEFAULT_SEGMENTER_OPTIONS.maxTokenChars);
      }
      // Where the cuts fall depends on the text only.
      expect(whole(text), name).toEqual(pieces(tokens(text, 5)));
    }
  });

  it('keeps URLs and numbers up to maxTokenChars whole', () => {
    const text = 'Go to https://www.example.com/products/shoes?size=42 now. It costs $1,234.56 today.';
    expect(whole(text, { earlyFirstPhrase: false })).toEqual(['Go to https://www.example.com/products/shoes?size=42 now.', 'It costs $1,234.56 today.']);
  });
});
