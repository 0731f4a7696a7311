// Inline emotion markup in streamed text (docs/protocol.md, "Emotion markup"): tags
// such as `[emotion=happy:0.7,surprise:0.3 intensity=0.8 ramp=400]` and `[/emotion]`
// are taken out of the text where they stand, however the text is cut into messages.
// Pure: names are checked against the voice by the caller.

/** A parsed tag: a new mix, or back to the session's base mix. */
export type EmotionTag =
  | { kind: 'set'; weights: Record<string, number>; intensity: number; rampMs: number }
  | { kind: 'base'; rampMs: number };

export type MarkupItem<M> =
  | { kind: 'text'; text: string }
  | { kind: 'tag'; tag: EmotionTag; source: string }
  | { kind: 'bad'; source: string; reason: string }
  | { kind: 'mark'; mark: M };

/** A tag longer than this is not one: it is reported and dropped at this length. */
export const MAX_TAG_CHARS = 256;
export const MAX_RAMP_MS = 600_000;

const OPENERS = ['[emotion', '[/emotion'];
const NAME = /^[A-Za-z0-9_-]{1,64}$/u;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/u;

/** Parses one whole tag, brackets included; throws an Error saying what is wrong. */
export function parseEmotionTag(source: string): EmotionTag {
  const closing = source.toLowerCase().startsWith('[/emotion');
  // Spaces around = , and : are the writer's; words are separated by the rest.
  const body = source.slice(closing ? 9 : 8, -1).replace(/\s*([=,:])\s*/gu, '$1').trim();
  const words = body === '' ? [] : body.split(/\s+/u);
  let weights: Record<string, number> | undefined;
  if (!closing) {
    const first = words.shift();
    if (!first?.startsWith('=') || first.length === 1) throw new Error('expected =name or =name:weight,… after "[emotion"');
    weights = parseMix(first.slice(1));
  }
  let intensity = 1;
  let rampMs = 0;
  for (const word of words) {
    const [key, value, extra] = word.split('=');
    if (value === undefined || extra !== undefined) throw new Error(`"${word}" is not key=value`);
    const allowed = closing ? ['ramp'] : ['intensity', 'ramp'];
    if (!allowed.includes(key!)) throw new Error(`unknown attribute "${key}" (${allowed.join(', ')})`);
    const number = parseNumber(value, key!);
    const max = key === 'ramp' ? MAX_RAMP_MS : 1;
    if (number > max) throw new Error(`${key}=${value} is out of range (0…${max}${key === 'ramp' ? ' ms' : ''})`);
    if (key === 'ramp') rampMs = number;
    else intensity = number;
  }
  return weights ? { kind: 'set', weights, intensity, rampMs } : { kind: 'base', rampMs };
}

function parseNumber(text: string, what: string): number {
  if (!NUMBER.test(text)) throw new Error(`${what}: "${text}" is not a number ≥ 0`);
  return Number(text);
}

function parseMix(text: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const item of text.split(',')) {
    const [name, weight, extra] = item.split(':');
    if (!name || !NAME.test(name) || extra !== undefined) throw new Error(`"${item}" is not name or name:weight`);
    weights[name] = (weights[name] ?? 0) + (weight === undefined ? 1 : parseNumber(weight, name));
  }
  if (!Object.values(weights).some((w) => w > 0)) throw new Error('at least one weight must be greater than 0');
  return weights;
}

/** Whether `held` can still become a tag: a prefix of an opener, or an opener and a separator. */
function stillTag(held: string): 'prefix' | 'tag' | 'text' {
  const lower = held.toLowerCase();
  for (const opener of OPENERS) {
    if (opener.startsWith(lower)) return 'prefix';
    if (lower.startsWith(opener) && /^[\s=\]]/u.test(lower.slice(opener.length))) return 'tag';
  }
  return 'text';
}

/**
 * Reads markup out of streamed text. Characters that may start a tag are held until
 * they are known to be one or not; marks (emotion messages) that arrive meanwhile come
 * out after them, since their text arrived first. Disabled, text passes through as is.
 */
export class MarkupReader<M> {
  private held = '';
  /** Emotion messages that arrived while characters were held, with how many had arrived before each. */
  private marks: { mark: M; at: number }[] = [];

  constructor(private readonly enabled: boolean) {}

  /** Characters held back as a possible tag. */
  get holding(): string {
    return this.held;
  }

  feed(text: string): MarkupItem<M>[] {
    if (!this.enabled) return text ? [{ kind: 'text', text }] : [];
    const out: MarkupItem<M>[] = [];
    let plain = '';
    const emitText = () => {
      if (plain) out.push({ kind: 'text', text: plain });
      plain = '';
    };
    for (const c of text) {
      if (this.held === '') {
        if (c === '[') this.held = c;
        else plain += c;
        continue;
      }
      this.held += c;
      const state = stillTag(this.held);
      if (state === 'prefix') continue;
      emitText();
      if (state === 'text') out.push(...this.releaseAsText());
      else if (c === ']') out.push(this.complete(this.held), ...this.releaseAfterTag());
      else if (this.held.length >= MAX_TAG_CHARS) {
        out.push({ kind: 'bad', source: this.held, reason: `no "]" within ${MAX_TAG_CHARS} characters` }, ...this.releaseAfterTag());
      }
    }
    emitText();
    return out;
  }

  /** An emotion message at the current position. */
  mark(mark: M): MarkupItem<M>[] {
    if (this.held === '') return [{ kind: 'mark', mark }];
    // At the same place a later mark wins: bounded by the held characters, however many arrive.
    const last = this.marks[this.marks.length - 1];
    if (last?.at === this.held.length) last.mark = mark;
    else this.marks.push({ mark, at: this.held.length });
    return [];
  }

  /**
   * The end of the stream or of a turn: an opened tag still unterminated is reported,
   * a mere prefix of one ("[emo") is text.
   */
  end(): MarkupItem<M>[] {
    if (this.held === '') return [];
    if (stillTag(this.held) === 'tag') return [{ kind: 'bad', source: this.held, reason: 'unterminated tag' }, ...this.releaseAfterTag()];
    const out = this.releaseAsText();
    return [...out, ...this.end()];
  }

  private complete(source: string): MarkupItem<M> {
    try {
      return { kind: 'tag', tag: parseEmotionTag(source), source };
    } catch (error) {
      return { kind: 'bad', source, reason: (error as Error).message };
    }
  }

  /** Marks waiting on a tag come after it: they arrived after its "[" did. */
  private releaseAfterTag(): MarkupItem<M>[] {
    const marks = this.marks;
    this.held = '';
    this.marks = [];
    return marks.map(({ mark }) => ({ kind: 'mark', mark }));
  }

  /**
   * The held characters are no tag: the "[" is text, and the rest is read again with the
   * marks back in their places (it may hold the start of a tag).
   */
  private releaseAsText(): MarkupItem<M>[] {
    const { held, marks } = this;
    this.held = '';
    this.marks = [];
    const out: MarkupItem<M>[] = [{ kind: 'text', text: '[' }];
    let from = 1;
    for (const { mark, at } of marks) {
      out.push(...this.feed(held.slice(from, at)), ...this.mark(mark));
      from = at;
    }
    out.push(...this.feed(held.slice(from)));
    return out;
  }
}
