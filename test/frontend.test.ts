import { dictionary } from 'cmu-pronouncing-dictionary';
import { describe, expect, it } from 'vitest';
import { phonemize, spokenText, SYMBOLS } from '../src/pipeline/frontend/index.js';
import { letterToSound } from '../src/pipeline/frontend/letter-to-sound.js';
import { lookup } from '../src/pipeline/frontend/lexicon.js';
import { cardinal, ordinal, year } from '../src/pipeline/frontend/numbers.js';
import { pronounce } from '../src/pipeline/frontend/pronounce.js';

/** The phones of each spoken word, as "word:PH PH" strings. */
function spans(text: string): string[] {
  const r = phonemize(text);
  return r.words.map((w) => `${w.word}:${r.symbols.slice(w.start, w.end).join(' ')}`);
}

describe('symbol table', () => {
  it('has 77 symbols: pad, 7 marks, 15 vowels × 3 stresses, 24 consonants', () => {
    expect(SYMBOLS).toHaveLength(77);
    expect(SYMBOLS.slice(0, 8)).toEqual(['_', ',', '.', '?', '!', ';', ':', '—']);
    expect(SYMBOLS.slice(8, 18)).toEqual(['AA0', 'AA1', 'AA2', 'AE0', 'AE1', 'AE2', 'AH0', 'AH1', 'AH2', 'AO0']);
    expect(SYMBOLS.slice(-6)).toEqual(['UW2', 'V', 'W', 'Y', 'Z', 'ZH']);
    expect(new Set(SYMBOLS).size).toBe(77);
  });

  it('orders phones alphabetically by base phone, consonants bare', () => {
    const phones = SYMBOLS.slice(8);
    const bases = phones.map((p) => p.replace(/[012]$/, ''));
    const distinct = bases.filter((b, i) => b !== bases[i - 1]);
    expect(distinct).toEqual([...distinct].sort());
    expect(distinct).toHaveLength(39);
    expect(phones.filter((p) => /[012]$/.test(p))).toHaveLength(45);
    expect(SYMBOLS.indexOf('B')).toBe(26);
    expect(SYMBOLS.indexOf('ZH')).toBe(76);
  });

  it('covers every phone of every CMUdict entry (comments stripped)', () => {
    const used = new Set(Object.keys(dictionary).flatMap((w) => lookup(w) ?? []));
    expect([...used].filter((p) => !SYMBOLS.includes(p))).toEqual([]);
    expect(lookup('aalborg')).toEqual(['AO1', 'L', 'B', 'AO0', 'R', 'G']);
  });

  it('every emitted id points at the emitted symbol', () => {
    const r = phonemize('Zhivago, the quick brown fox — jumps? Yes!');
    expect(r.ids.map((id) => SYMBOLS[id])).toEqual(r.symbols);
  });
});

describe('number words', () => {
  it.each([
    ['0', 'zero'],
    ['7', 'seven'],
    ['15', 'fifteen'],
    ['40', 'forty'],
    ['101', 'one hundred one'],
    ['1000000', 'one million'],
    ['1000001', 'one million one'],
    ['999999999999', 'nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine'],
  ])('cardinal %s', (digits, spoken) => {
    expect(cardinal(digits).join(' ')).toBe(spoken);
  });

  it.each([
    ['1', 'first'], ['2', 'second'], ['3', 'third'], ['5', 'fifth'], ['8', 'eighth'], ['9', 'ninth'],
    ['12', 'twelfth'], ['20', 'twentieth'], ['22', 'twenty second'], ['100', 'one hundredth'],
  ])('ordinal %s', (digits, spoken) => {
    expect(ordinal(digits).join(' ')).toBe(spoken);
  });

  it.each([
    ['1984', 'nineteen eighty four'],
    ['2005', 'two thousand five'],
    ['2010', 'twenty ten'],
    ['1900', 'nineteen hundred'],
    ['1905', 'nineteen oh five'],
    ['2000', 'two thousand'],
    ['1066', 'ten sixty six'],
  ])('year %s', (digits, spoken) => {
    expect(year(digits).join(' ')).toBe(spoken);
  });

  it('reads digit strings too long for a cardinal digit by digit', () => {
    expect(cardinal('1'.repeat(40))).toEqual(Array(40).fill('one'));
  });
});

describe('spokenText', () => {
  it.each([
    // the brief's example
    ['Dr. Smith paid $3.50 on 3/5/2024.', 'doctor smith paid three dollars fifty cents on march fifth twenty twenty four.'],
    // cardinals, negatives, decimals
    ['I have 1,234,567 reasons.', 'i have one million two hundred thirty four thousand five hundred sixty seven reasons.'],
    ['It dropped to -5 overnight.', 'it dropped to minus five overnight.'],
    ['Pi is 3.14159', 'pi is three point one four one five nine.'],
    ['Take .5 of it', 'take point five of it.'],
    ['Agent 007', 'agent zero zero seven.'],
    ['COVID-19 spread', 'covid nineteen spread.'],
    ['Room 204', 'room two hundred four.'],
    // ordinals
    ['the 1st, 2nd, 3rd and 22nd', 'the first, second, third and twenty second.'],
    ['on the 11th and 101st floors', 'on the eleventh and one hundred first floors.'],
    // years and decades
    ['Born in 1984, moved in 2005, back in 2010.', 'born in nineteen eighty four, moved in two thousand five, back in twenty ten.'],
    ['Music of the 1980s and the \u201990s', 'music of the nineteen eighties and the nineties.'],
    // currency
    ['It costs $5.', 'it costs five dollars.'],
    ['Just $1', 'just one dollar.'],
    ['Only $0.99!', 'only ninety nine cents!'],
    ['Tickets are £20 each.', 'tickets are twenty pounds each.'],
    ['A budget of €1.5 million', 'a budget of one point five million euros.'],
    ['Worth $2.5bn', 'worth two point five billion dollars.'],
    ['Your balance is $1,203.17.', 'your balance is one thousand two hundred three dollars seventeen cents.'],
    ['Pizza is 14€', 'pizza is fourteen euros.'],
    // percentages and units
    ['Battery at 75%', 'battery at seventy five percent.'],
    ['Up 3.5 % today', 'up three point five percent today.'],
    ['It is 72°F outside, -5°C inside', 'it is seventy two degrees fahrenheit outside, minus five degrees celsius inside.'],
    ['Run 5km at 10 mph', 'run five kilometers at ten miles per hour.'],
    // times
    ['Meet at 3:45 pm.', 'meet at three forty five PM.'],
    ['Wake me at 10am', 'wake me at ten AM.'],
    ['The 7:05 train', 'the seven oh five train.'],
    ['Lunch at 12:00', "lunch at twelve o'clock."],
    ['Leave at 6 a.m. Then drive.', 'leave at six AM. then drive.'],
    // dates
    ['Due 2024-03-05', 'due march fifth twenty twenty four.'],
    ['On March 5, 2024 we met', 'on march fifth twenty twenty four we met.'],
    ['By Jan. 3rd', 'by january third.'],
    ['Signed 12/25/99', 'signed december twenty fifth ninety nine.'],
    // fractions and ranges
    ['Add 1/2 cup and 3/4 spoon, 2/3 of it', 'add one half cup and three quarters spoon, two thirds of it.'],
    ['Open 24/7', 'open twenty four seven.'],
    ['Read pages 10-20.', 'read pages ten to twenty.'],
    ['Call 555-0192 now', 'call five five five, zero one nine two now.'],
    ['Call (555) 123-4567', 'call five five five, one two three, four five six seven.'],
    // abbreviations
    ['Mr Smith met Mrs. Jones and Ms. Lee.', 'mister smith met missus jones and miz lee.'],
    ['He lives at 221 Baker St. in London.', 'he lives at two hundred twenty one baker street in london.'],
    ['We visited St. Louis.', 'we visited saint louis.'],
    ['Turn onto Mulholland Dr. now', 'turn onto mulholland drive now.'],
    ['Apples, pears, etc. Then more.', 'apples, pears, et cetera. then more.'],
    ['Kramer vs. Kramer', 'kramer versus kramer.'],
    ['Martin Luther King Jr. spoke', 'martin luther king junior spoke.'],
    ['Ask for No. 5', 'ask for number five.'],
    ['No. I refuse.', 'no. i refuse.'],
    ['Fruit, e.g. apples, i.e. food', 'fruit, for example apples, that is food.'],
    // acronyms and case
    ['The FBI and NASA met.', 'the fbi and nasa met.'],
    ['The U.S. economy grew.', 'the US economy grew.'],
    ['Scan the QR code', 'scan the QR code.'],
    ['AI is here', 'AI is here.'],
    ['I LOVE IT', 'i love it.'],
    ['Leave at 3.30pm', 'leave at three thirty PM.'],
    ['On 5 March 2024 and the 21st of June', 'on the fifth of march twenty twenty four and the twenty first of june.'],
    ['John F. Kennedy and J. R. R. Tolkien', 'john f kennedy and j r r tolkien.'],
    ['She has a Ph.D. in math', 'she has a PHD in math.'],
    ['I like it.It works', 'i like it. it works.'],
    // roman numerals
    ['Henry VIII met Louis XIV.', 'henry the eighth met louis the fourteenth.'],
    ['World War II, Chapter IV', 'world war two, chapter four.'],
    ['Paul I think so', 'paul i think so.'],
    // units are case-sensitive
    ['A 5G phone with 10 MB', 'a five g phone with ten megabytes.'],
    ['It cost -$5', 'it cost minus five dollars.'],
    ['The dr. said no', 'the doctor said no.'],
    ["Two XYZs and the XYZ's box", "two XYZs and the XYZ's box."],
    // symbols
    ['Tom & Jerry', 'tom and jerry.'],
    ['2 + 2 = 4', 'two plus two equals four.'],
    ['My #1 fan, #blessed', 'my number one fan, hashtag blessed.'],
    // web
    ['Visit example.com today.', 'visit example dot com today.'],
    ['See https://www.example.com/path.', 'see WWW dot example dot com slash path.'],
    ['Write to john.smith@example.com', 'write to john dot smith at example dot com.'],
    // hyphens
    ['Is the Wi-Fi on? Check the e-mail.', 'is the wi-fi on? check the e-mail.'],
    ['A well-behaved dog', 'a well behaved dog.'],
    // unicode punctuation, quotes, emoji, diacritics
    ['\u201cHello,\u201d she said\u2026', 'hello, she said.'],
    ['Hmm\u2026 interesting', 'hmm — interesting.'],
    ['Wait \u2014 what?!', 'wait — what?'],
    ['Really??!!', 'really?'],
    ['Well... I don\u2019t know', "well. i don't know."],
    ['Smile \u{1F600} please \u2764\uFE0F', 'smile please.'],
    ['A caf\u00e9, a na\u00efve r\u00e9sum\u00e9', 'a cafe, a naive resume.'],
    ['\uFF15\uFF10 points', 'fifty points.'],
    ['(maybe) not', 'maybe — not.'],
    ['He said: "no"; she left', 'he said: no; she left.'],
  ])('%s', (text, expected) => {
    expect(spokenText(text)).toBe(expected);
  });
});

describe('phonemize', () => {
  it('gives exact phones for dictionary words and marks', () => {
    const r = phonemize('Hello, world!');
    expect(r.symbols).toEqual(['HH', 'AH0', 'L', 'OW1', ',', 'W', 'ER1', 'L', 'D', '!']);
    expect(r.words).toEqual([
      { word: 'hello', start: 0, end: 4 },
      { word: 'world', start: 5, end: 9 },
    ]);
  });

  it('returns empty arrays for empty, blank and unspeakable text', () => {
    for (const text of ['', '   ', '\n\t', '!!!', '\u{1F600}']) {
      expect(phonemize(text)).toEqual({ ids: [], symbols: [], words: [] });
    }
  });

  it('ends every utterance with a sentence mark', () => {
    expect(phonemize('no punctuation here').symbols.at(-1)).toBe('.');
    expect(phonemize('is it?').symbols.at(-1)).toBe('?');
    expect(phonemize('Is it?")').symbols.at(-1)).toBe('?');
    expect(phonemize('stop!').symbols.at(-1)).toBe('!');
    expect(phonemize('trailing comma,').symbols.at(-1)).toBe('.');
    expect(phonemize('trailing dash —').symbols.at(-1)).toBe('.');
  });

  it('never puts two marks in a row nor a mark first', () => {
    const r = phonemize('...Oh!? , — (really) ;: yes...');
    const marks = new Set([',', '.', '?', '!', ';', ':', '—']);
    expect(marks.has(r.symbols[0]!)).toBe(false);
    r.symbols.forEach((s, i) => {
      if (i > 0 && marks.has(s)) expect(marks.has(r.symbols[i - 1]!)).toBe(false);
    });
    expect(r.words.map((w) => w.word)).toEqual(['oh', 'really', 'yes']);
  });

  it('word spans tile the phones between marks', () => {
    const r = phonemize('Dr. Smith paid $3.50, twice.');
    let covered = 0;
    for (const w of r.words) {
      expect(w.start).toBeGreaterThanOrEqual(covered);
      expect(w.end).toBeGreaterThan(w.start);
      covered = w.end;
    }
    const phoneCount = r.symbols.filter((s) => /^[A-Z]/.test(s)).length;
    expect(r.words.reduce((n, w) => n + (w.end - w.start), 0)).toBe(phoneCount);
  });

  it('spells acronyms by letter names', () => {
    expect(spans('HTTPS and the FBI')).toEqual([
      'https:EY1 CH T IY1 T IY1 P IY1 EH1 S',
      'and:AH0 N D',
      'the:DH AH0',
      'fbi:EH1 F B IY1 AY1',
    ]);
    expect(spans('the US')).toEqual(['the:DH AH0', 'us:Y UW1 EH1 S']);
  });

  it('adds the plural or possessive ending to a spelled acronym', () => {
    expect(spans("XYZs and XYZ's")).toEqual([
      'xyzs:EH1 K S W AY1 Z IY1 Z',
      'and:AH0 N D',
      "xyz's:EH1 K S W AY1 Z IY1 Z",
    ]);
  });

  it('reads NASA as a word, not letters', () => {
    expect(spans('NASA launched')).toEqual(['nasa:N AE1 S AH0', 'launched:L AO1 N CH T']);
  });

  it('reads a.m. and p.m. as letters', () => {
    expect(spans('at 9 pm')).toEqual(['at:AE1 T', 'nine:N AY1 N', 'pm:P IY1 EH1 M']);
  });

  it('prefers the US reading of zero', () => {
    expect(spans('0')).toEqual(['zero:Z IY1 R OW0']);
  });

  it('pronounces a long word without a crash and keeps all of it', () => {
    const word = 'pneumonoultramicroscopicsilicovolcanoconiosis';
    const r = phonemize(word);
    expect(r.words).toHaveLength(1);
    expect(r.words[0]!.end - r.words[0]!.start).toBeGreaterThan(20);
  });

  it('chunks absurdly long words into several words', () => {
    const r = phonemize(`say ${'abra'.repeat(500)} now`);
    expect(r.words[0]!.word).toBe('say');
    expect(r.words.at(-1)!.word).toBe('now');
    expect(r.words.length).toBe(2 + 100);
    expect(r.words.slice(1, -1).every((w) => w.word.length === 20)).toBe(true);
  });

  it('handles a long text of many sentences', () => {
    const r = phonemize('The cat sat. '.repeat(200));
    expect(r.words).toHaveLength(600);
    expect(r.symbols.filter((s) => s === '.')).toHaveLength(200);
  });

  it('reads words that name Object.prototype members like any other', () => {
    expect(spans('constructor toString valueOf __proto__ hasOwnProperty').map((s) => s.split(':')[0])).toEqual([
      'constructor', 'tostring', 'valueof', 'proto', 'hasownproperty',
    ]);
    expect(spans('constructor')).toEqual(['constructor:K AH0 N S T R AH1 K T ER0']);
  });

  it('is deterministic', () => {
    const text = 'Priya\u2019s 3rd e-mail to Dr. O\u2019Brien — $4.20?!';
    expect(phonemize(text)).toEqual(phonemize(text));
  });
});

describe('out-of-vocabulary words', () => {
  it('derives plurals, possessives and past tenses from the dictionary stem', () => {
    expect(pronounce('podcasts')).toEqual(['P', 'AO1', 'D', 'K', 'AE2', 'S', 'T', 'S']);
    expect(pronounce('hashtags')).toEqual(['HH', 'AE1', 'SH', 'T', 'AE2', 'G', 'Z']);
    expect(pronounce("Okafor's")).toEqual([...pronounce('okafor'), 'Z']);
    expect(pronounce('facepalmed').slice(-2)).toEqual(['M', 'D']);
    expect(pronounce('unfriendliness')).toEqual(['AH0', 'N', 'F', 'R', 'EH1', 'N', 'D', 'L', 'IY0', 'N', 'IH0', 'S']);
  });

  it('shortens stretched spellings to a dictionary word', () => {
    expect(pronounce('Sooo')).toEqual(pronounce('so'));
    expect(pronounce('goood')).toEqual(pronounce('good'));
    expect(pronounce('yesss')).toEqual(pronounce('yes'));
    expect(pronounce('pleeease')).toEqual(pronounce('please'));
  });

  it("adds 's to a name the rules must guess", () => {
    expect(pronounce("Zyx's")).toEqual([...pronounce('zyx'), 'IH0', 'Z']);
  });

  it('joins two dictionary words with compound stress', () => {
    expect(pronounce('frostfang')).toEqual(['F', 'R', 'AO1', 'S', 'T', 'F', 'AE2', 'NG']);
  });

  it('splits camel case', () => {
    expect(pronounce('SnowPeak')).toEqual(['S', 'N', 'OW1', 'P', 'IY1', 'K']);
  });

  it('falls back to letter-to-sound rules with one primary stress', () => {
    const phones = letterToSound('blorptastic');
    expect(phones.join(' ')).toBe('B L AO1 R P T AE0 S T IH0 K');
    expect(phones.filter((p) => p.endsWith('1'))).toHaveLength(1);
  });

  it('applies the NRL context rules', () => {
    expect(letterToSound('shade').join(' ')).toBe('SH EY1 D');
    expect(letterToSound('knight').join(' ')).toBe('N AY1 T');
    expect(letterToSound('phonetics').join(' ')).toBe('F OW1 N EH0 T IH0 K S');
  });

  it('spells words without vowels', () => {
    expect(pronounce('pwn')).toEqual(['P', 'IY1', 'D', 'AH1', 'B', 'AH0', 'L', 'Y', 'UW0', 'EH1', 'N']);
  });

  it('only emits symbols of the table, whatever the input', () => {
    const r = phonemize('Xyzzy qwfp Ǆemal ßtraße ÆON 12B zzz... ¿qué? 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓');
    expect(r.symbols.every((s) => SYMBOLS.includes(s))).toBe(true);
    expect(r.words.length).toBeGreaterThan(5);
  });
});

describe('terminal escapes and control characters', () => {
  it('are silent, not read as text', () => {
    // ESC [ 31 m was read as "thirty one meters".
    expect(spokenText('Error \u001b[31mred\u001b[0m text')).toBe('error red text.');
    expect(spokenText('\u001b]0;window title\u0007Done \u001b[2J\u001b[1;1H now')).toBe('done now.');
    expect(spokenText('tab\u0007bell\u0000nul')).toBe('tab bell nul.');
    expect(phonemize('\u001b[31m\u001b[0m').ids).toEqual([]);
  });
});
