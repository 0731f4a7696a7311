// Letter-to-sound rules for words that neither the dictionary nor morphology
// can pronounce: the public-domain rules of Elovitz, Johnson, McHugh and Shore,
// "Automatic Translation of English Text to Phonetics by Means of
// Letter-to-Sound Rules", NRL Report 7948 (1976), re-expressed here as
// `left|match|right|phones` with the report's context symbols:
//   #  one or more vowels          :  zero or more consonants
//   ^  one consonant               .  one voiced consonant (B D V G J L M N R W Z)
//   %  a suffix ER E ES ED ING ELY  +  a front vowel (E I Y)
//   ' ' (space) the edge of the word
// The first rule of a letter whose three parts match wins. Phones are ARPAbet
// without stress (AX marks schwa); stress is assigned afterwards by a heuristic
// (first full vowel primary), which the report does not cover.

const RULES: Record<string, readonly string[]> = {
  A: [
    '|A| |AX', ' |ARE| |AA R', ' |AR|O|AX R', '|AR|#|EH R', '^|AS|#|EY S', '|A|WA|AX', '|AW||AO',
    ' :|ANY||EH N IY', '|A|^+#|EY', '#:|ALLY||AX L IY', ' |AL|#|AX L', '|AGAIN||AX G EH N',
    '#:|AG|E|IH JH', '|A|^+:#|AE', ' :|A|^+ |EY', '|A|^%|EY', ' |ARR||AX R', '|ARR||AE R',
    ' :|AR| |AA R', '|AR| |ER', '|AR||AA R', '|AIR||EH R', '|AI||EY', '|AY||EY', '|AU||AO',
    '#:|AL| |AX L', '#:|ALS| |AX L Z', '|ALK||AO K', '|AL|^|AO L', ' :|ABLE||EY B AX L',
    '|ABLE||AX B AX L', '|ANG|+|EY N JH', '|A||AE',
  ],
  B: [' |BE|^#|B IH', '|BEING||B IY IH NG', ' |BOTH| |B OW TH', ' |BUS|#|B IH Z', '|BUIL||B IH L', '|B||B'],
  C: [
    ' |CH|^|K', '^E|CH||K', '|CH||CH', ' S|CI|#|S AY', '|CI|A|SH', '|CI|O|SH', '|CI|EN|SH',
    '|C|+|S', '|CK||K', '|COM|%|K AH M', '|C||K',
  ],
  D: [
    '#:|DED| |D IH D', '.E|D| |D', '#:^E|D| |T', ' |DE|^#|D IH', ' |DO| |D UW', ' |DOES||D AH Z',
    ' |DOING||D UW IH NG', ' |DOW||D AW', '|DU|A|JH UW', '|D||D',
  ],
  E: [
    '#:|E| |', "':^|E| |", ' :|E| |IY', '#|ED| |D', '#:|E|D |', '|EV|ER|EH V', '|E|^%|IY',
    '|ERI|#|IY R IY', '|ERI||EH R IH', '#:|ER|#|ER', '|ER|#|EH R', '|ER||ER', ' |EVEN||IY V EH N',
    '#:|E|W|', 'T|EW||UW', 'S|EW||UW', 'R|EW||UW', 'D|EW||UW', 'L|EW||UW', 'Z|EW||UW', 'N|EW||UW',
    'J|EW||UW', 'TH|EW||UW', 'CH|EW||UW', 'SH|EW||UW', '|EW||Y UW', '|E|O|IY', '#:S|ES| |IH Z',
    '#:C|ES| |IH Z', '#:G|ES| |IH Z', '#:Z|ES| |IH Z', '#:X|ES| |IH Z', '#:J|ES| |IH Z',
    '#:CH|ES| |IH Z', '#:SH|ES| |IH Z', '#:|E|S |', '#:|ELY| |L IY', '#:|EMENT||M EH N T',
    '|EFUL||F UH L', '|EE||IY', '|EARN||ER N', ' |EAR|^|ER', '|EAD||EH D', '#:|EA| |IY AX',
    '|EA|SU|EH', '|EA||IY', '|EIGH||EY', '|EI||IY', ' |EYE||AY', '|EY||IY', '|EU||Y UW', '|E||EH',
  ],
  F: ['|FUL||F UH L', '|F||F'],
  G: [
    '|GIV||G IH V', ' |G|I^|G', '|GE|T|G EH', 'SU|GGES||G JH EH S', '|GG||G', ' B#|G||G', '|G|+|JH',
    '|GREAT||G R EY T', '#|GH||', '|G||G',
  ],
  H: [' |HAV||HH AE V', ' |HERE||HH IY R', ' |HOUR||AW ER', '|HOW||HH AW', '|H|#|HH', '|H||'],
  I: [
    ' |IN||IH N', ' |I| |AY', '|IN|D|AY N', '|IER||IY ER', '#:R|IED||IY D', '|IED| |AY D',
    '|IEN||IY EH N', '|IE|T|AY EH', ' :|I|%|AY', '|I|%|IY', '|IE||IY', '|I|^+:#|IH', '|IR|#|AY R',
    '|IZ|%|AY Z', '|IS|%|AY Z', '|I|D%|AY', '+^|I|^+|IH', '|I|T%|AY', '#:^|I|^+|IH', '|I|^+|AY',
    '|IR||ER', '|IGH||AY', '|ILD||AY L D', '|IGN| |AY N', '|IGN|^|AY N', '|IGN|%|AY N',
    '|IQUE||IY K', '|I||IH',
  ],
  J: ['|J||JH'],
  K: [' |K|N|', '|K||K'],
  L: ['|LO|C#|L OW', 'L|L||', '#:^|L|%|AX L', '|LEAD||L IY D', '|L||L'],
  M: ['|MOV||M UW V', '|M||M'],
  N: [
    'E|NG|+|N JH', '|NG|R|NG G', '|NG|#|NG G', '|NGL|%|NG G AX L', '|NG||NG', '|NK||NG K',
    ' |NOW| |N AW', '|N||N',
  ],
  O: [
    '|OF| |AX V', '|OROUGH||ER OW', '#:|OR| |ER', '#:|ORS| |ER Z', '|OR||AO R', ' |ONE||W AH N',
    '|OW||OW', ' |OVER||OW V ER', '|OV||AH V', '|O|^%|OW', '|O|^EN|OW', '|O|^I#|OW', '|OL|D|OW L',
    '|OUGHT||AO T', '|OUGH||AH F', ' |OU||AW', 'H|OU|S#|AW', '|OUS||AX S', '|OUR||AO R',
    '|OULD||UH D', '^|OU|^L|AH', '|OUP||UW P', '|OU||AW', '|OY||OY', '|OING||OW IH NG', '|OI||OY',
    '|OOR||AO R', '|OOK||UH K', '|OOD||UH D', '|OO||UW', '|O|E|OW', '|O| |OW', '|OA||OW',
    ' |ONLY||OW N L IY', ' |ONCE||W AH N S', "|ON'T||OW N T", 'C|O|N|AA', '|O|NG|AO', ' :^|O|N|AH',
    'I|ON||AX N', '#:|ON| |AX N', '#^|ON||AX N', '|O|ST |OW', '|OF|^|AO F', '|OTHER||AH DH ER',
    '|OSS| |AO S', '#:^|OM||AH M', '|O||AA',
  ],
  P: ['|PH||F', '|PEOP||P IY P', '|POW||P AW', '|PUT| |P UH T', '|P||P'],
  Q: ['|QUAR||K W AO R', '|QU||K W', '|Q||K'],
  R: [' |RE|^#|R IY', '|R||R'],
  S: [
    '|SH||SH', '#|SION||ZH AX N', '|SOME||S AH M', '#|SUR|#|ZH ER', '|SUR|#|SH ER', '#|SU|#|ZH UW',
    '#|SSU|#|SH UW', '#|SED| |Z D', '#|S|#|Z', '|SAID||S EH D', '^|SION||SH AX N', '|S|S|',
    '.|S| |Z', '#:.E|S| |Z', '#:^##|S| |Z', '#:^#|S| |S', 'U|S| |S', ' :#|S| |Z', ' |SCH|#|S K',
    ' |SCH||SH', '|S|C+|', '#|SM||Z M', "#|SN|'|Z AX N", '|S||S',
  ],
  T: [
    ' |THE| |DH AX', '|TO| |T UW', '|THAT| |DH AE T', ' |THIS| |DH IH S', ' |THEY||DH EY',
    ' |THERE||DH EH R', '|THER||DH ER', '|THEIR||DH EH R', ' |THAN| |DH AE N', ' |THEM| |DH EH M',
    '|THESE| |DH IY Z', ' |THEN||DH EH N', '|THROUGH||TH R UW', '|THOSE||DH OW Z',
    '|THOUGH| |DH OW', ' |THUS||DH AH S', '|TH||TH', '#:|TED| |T IH D', 'S|TI|#N|CH', '|TI|O|SH',
    '|TI|A|SH', '|TIEN||SH AX N', '|TUR|#|CH ER', '|TU|A|CH UW', ' |TWO||T UW', '|T||T',
  ],
  U: [
    ' |UN|I|Y UW N', ' |UN||AH N', ' |UPON||AX P AO N', 'T|UR|#|UH R', 'S|UR|#|UH R',
    'R|UR|#|UH R', 'D|UR|#|UH R', 'L|UR|#|UH R', 'Z|UR|#|UH R', 'N|UR|#|UH R', 'J|UR|#|UH R',
    'TH|UR|#|UH R', 'CH|UR|#|UH R', 'SH|UR|#|UH R', '|UR|#|Y UH R', '|UR||ER', '|U|^ |AH',
    '|U|^^|AH', '|UY||AY', ' G|U|#|', 'G|U|%|', 'G|U|#|W', '#N|U||Y UW', 'T|U||UW', 'S|U||UW',
    'R|U||UW', 'D|U||UW', 'L|U||UW', 'Z|U||UW', 'N|U||UW', 'J|U||UW', 'TH|U||UW', 'CH|U||UW',
    'SH|U||UW', '|U||Y UW',
  ],
  V: ['|VIEW||V Y UW', '|V||V'],
  W: [
    ' |WERE||W ER', '|WA|S|W AA', '|WA|T|W AA', '|WHERE||W EH R', '|WHAT||W AA T', '|WHOL||HH OW L',
    '|WHO||HH UW', '|WH||W', '|WAR||W AO R', '|WOR|^|W ER', '|WR||R', '|W||W',
  ],
  X: ['|X||K S'],
  Y: [
    '|YOUNG||Y AH NG', ' |YOU||Y UW', ' |YES||Y EH S', ' |Y||Y', '#:^|Y| |IY', '#:^|Y|I|IY',
    ' :|Y| |AY', ' :|Y|#|AY', ' :|Y|^+:#|IH', ' :|Y|^#|AY', '|Y||IH',
  ],
  Z: ['|Z||Z'],
};

interface Rule {
  left: string;
  match: string;
  right: string;
  phones: string[];
}

const PARSED: ReadonlyMap<string, Rule[]> = new Map(
  Object.entries(RULES).map(([letter, rules]) => [
    letter,
    rules.map((text) => {
      const [left = '', match = '', right = '', phones = ''] = text.split('|');
      return { left, match, right, phones: phones.split(' ').filter(Boolean) };
    }),
  ]),
);

const isVowel = (c: string | undefined): boolean => c !== undefined && 'AEIOU'.includes(c);
const isConsonant = (c: string | undefined): boolean =>
  c !== undefined && c >= 'A' && c <= 'Z' && !isVowel(c);
const isLetterOrApostrophe = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'A' && c <= 'Z') || c === "'");

// Right context: walks forward from `pos`, greedily as the report's program does.
function matchRight(pattern: string, text: string, start: number): boolean {
  let pos = start;
  for (const sym of pattern) {
    const c = text[pos];
    switch (sym) {
      case '#':
        if (!isVowel(c)) return false;
        while (isVowel(text[pos])) pos++;
        break;
      case ':':
        while (isConsonant(text[pos])) pos++;
        break;
      case '^':
        if (!isConsonant(c)) return false;
        pos++;
        break;
      case '.':
        if (c === undefined || !'BDVGJLMNRWZ'.includes(c)) return false;
        pos++;
        break;
      case '+':
        if (c === undefined || !'EIY'.includes(c)) return false;
        pos++;
        break;
      case '%':
        if (c === 'E') {
          const next = text[pos + 1];
          if (next === 'R' || next === 'S' || next === 'D') pos += 2;
          else if (next === 'L' && text[pos + 2] === 'Y') pos += 3;
          else pos += 1;
        } else if (text.startsWith('ING', pos)) pos += 3;
        else return false;
        break;
      case ' ':
        if (isLetterOrApostrophe(c)) return false;
        pos++;
        break;
      default:
        if (c !== sym) return false;
        pos++;
    }
  }
  return true;
}

// Left context: the pattern is read right to left, walking backward from `end`.
function matchLeft(pattern: string, text: string, end: number): boolean {
  let pos = end;
  for (let i = pattern.length - 1; i >= 0; i--) {
    const sym = pattern[i]!;
    const c = text[pos];
    switch (sym) {
      case '#':
        if (!isVowel(c)) return false;
        while (isVowel(text[pos])) pos--;
        break;
      case ':':
        while (isConsonant(text[pos])) pos--;
        break;
      case '^':
        if (!isConsonant(c)) return false;
        pos--;
        break;
      case '.':
        if (c === undefined || !'BDVGJLMNRWZ'.includes(c)) return false;
        pos--;
        break;
      case '+':
        if (c === undefined || !'EIY'.includes(c)) return false;
        pos--;
        break;
      case ' ':
        if (isLetterOrApostrophe(c)) return false;
        pos--;
        break;
      default:
        if (c !== sym) return false;
        pos--;
    }
  }
  return true;
}

/** Phones without stress for a word of letters (and apostrophes); AX marks schwa. */
function rawPhones(word: string): string[] {
  const text = ` ${word.toUpperCase()} `;
  const phones: string[] = [];
  let i = 1;
  while (i < text.length - 1) {
    const rules = PARSED.get(text[i]!);
    const rule = rules?.find(
      (r) => text.startsWith(r.match, i) && matchLeft(r.left, text, i - 1) && matchRight(r.right, text, i + r.match.length),
    );
    if (rule) {
      phones.push(...rule.phones);
      i += rule.match.length;
    } else {
      i += 1; // apostrophes and anything else without a rule are silent
    }
  }
  return phones;
}

const REDUCED = new Set(['AX', 'AH', 'IH', 'ER', 'UH']);
const FULL_UNSTRESSED = new Set(['AY', 'EY', 'OW', 'AW', 'OY', 'AA', 'AO']);

/**
 * ARPAbet with stress for an out-of-vocabulary word. Stress heuristic: the
 * first vowel that is not a reduced one carries primary stress (the first vowel
 * when all are reduced); later diphthongs and low back vowels carry secondary
 * stress; the rest are unstressed.
 */
export function letterToSound(word: string): string[] {
  const phones = rawPhones(word);
  const vowelAt = phones.map((p) => /^[AEIOU]/.test(p));
  let primary = phones.findIndex((p, i) => vowelAt[i] && !REDUCED.has(p));
  if (primary < 0) primary = phones.findIndex((p, i) => vowelAt[i] && p !== 'AX');
  if (primary < 0) primary = vowelAt.indexOf(true);
  return phones.map((p, i) => {
    if (!vowelAt[i]) return p;
    if (p === 'AX') return i === primary ? 'AH1' : 'AH0';
    if (i === primary) return `${p}1`;
    return FULL_UNSTRESSED.has(p) && i > primary ? `${p}2` : `${p}0`;
  });
}
