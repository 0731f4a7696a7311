// Abbreviations read in full. Titles stand before a name ("Dr. Smith") and
// never end a sentence; the others may ("… and so on, etc. Then …").

export const TITLES: Readonly<Record<string, string>> = {
  dr: 'doctor', mr: 'mister', mrs: 'missus', ms: 'miz', prof: 'professor', gen: 'general',
  gov: 'governor', sen: 'senator', rep: 'representative', capt: 'captain', lt: 'lieutenant',
  sgt: 'sergeant', col: 'colonel', rev: 'reverend', hon: 'honorable', pres: 'president',
  mt: 'mount', ft: 'fort', st: 'saint',
};

/** Title-like abbreviations that, after a name or number, are a place instead ("Elm St."). */
export const PLACE_READINGS: Readonly<Record<string, string>> = { st: 'street', dr: 'drive' };

/** Titles also written without a full stop (British usage: "Mr Smith"). */
export const UNDOTTED_TITLES = new Set(['dr', 'mr', 'mrs', 'ms', 'st']);

export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  etc: 'et cetera', vs: 'versus', jr: 'junior', sr: 'senior', inc: 'incorporated',
  ltd: 'limited', co: 'company', corp: 'corporation', dept: 'department', ave: 'avenue',
  rd: 'road', blvd: 'boulevard', approx: 'approximately', vol: 'volume', fig: 'figure',
  jan: 'january', feb: 'february', mar: 'march', apr: 'april', jun: 'june', jul: 'july',
  aug: 'august', sep: 'september', sept: 'september', oct: 'october', nov: 'november',
  dec: 'december',
};

/** Abbreviations whose full stop, before a capital, also ends the sentence. */
export const SENTENCE_FINAL = new Set(['etc', 'jr', 'sr', 'inc', 'ltd', 'co', 'corp', 'dept', 'ave', 'rd', 'blvd']);

/** Abbreviations understood without their full stop. */
export const UNDOTTED_ABBREVIATIONS = new Set(['vs', 'etc']);

/** Dotted forms matched as a whole ("e.g."); any other run of dotted single letters is spelled. */
export const DOTTED: Readonly<Record<string, string>> = {
  'e.g.': 'for example',
  'i.e.': 'that is',
};

/** All-caps words spelled even where CMUdict has a homograph ("US" is not "us"). */
export const ALWAYS_SPELLED = new Set(['US', 'UK', 'EU', 'UN', 'AI', 'TV', 'PC', 'ID', 'IT', 'OS', 'AM', 'PM']);
