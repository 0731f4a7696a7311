// Folds the many ways Unicode writes the same thing onto the ASCII forms the
// tokenizer knows: compatibility forms (full-width digits, ligatures, "…"),
// curly quotes, the dash family, and Latin letters with diacritics.

const LETTER_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', đ: 'd', Đ: 'D', ł: 'l', Ł: 'L',
  þ: 'th', Þ: 'Th', ð: 'd', Ð: 'D', ı: 'i',
};

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \) and two-character escapes.
const ANSI_ESCAPE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

export function cleanText(text: string): string {
  return text
    // Terminal escape sequences (colours, cursor moves: ESC [ 3 1 m) say nothing; read
    // as text they became "thirty one meters". Other control characters go with them.
    .replace(ANSI_ESCAPE, ' ')
    .replace(CONTROL, ' ')
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u02BC`´]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB\u2039\u203A]/g, '"')
    .replace(/[\u2010\u2011\u2012\u2212\uFE63\uFF0D]/g, '-')
    .replace(/\u2013/g, '–')
    .replace(/[\u2014\u2015\u2E3A\u2E3B]/g, '—')
    .replace(/\u2044/g, '/')
    .replace(/[ßæÆœŒøØđĐłŁþÞðÐı]/g, (c) => LETTER_FOLDS[c]!)
    .normalize('NFD')
    .replace(/(?<=[A-Za-z])\p{M}+/gu, '')
    .normalize('NFC');
}
