// Flow control for text sent to a session. The server holds at most
// `maxBufferedText` characters not yet spoken and refuses text beyond that, so
// a client with a long input (a book, a chatty LLM) keeps its own count of
// what the server still holds and waits for phrases to be announced before
// sending more.

const isSpace = (c: string): boolean => /\s/.test(c);
/** A whole emotion tag (docs/protocol.md, "Emotion markup"): never spoken, so never announced. */
const TAG = /\[\/?emotion(?:[\s=][^\]]*)?\]/giu;

export class TextWindow {
  /** Text sent whose phrases have not been announced yet. */
  private pending = '';
  private waiter: { size: number; resolve: (open: boolean) => void } | undefined;
  private closed = false;

  /**
   * `limit` is the server's maxBufferedText; half of it is used, leaving room for whitespace
   * the count cannot see. With `markup`, emotion tags are not counted as text to be announced.
   */
  constructor(
    private readonly limit: number,
    private readonly markup = false,
  ) {}

  /** The largest piece of text to send in one message. */
  get sliceSize(): number {
    return Math.max(1, Math.floor(this.limit / 4));
  }

  /** Resolves once `size` more characters fit (true), or when the window is closed (false). */
  room(size: number): Promise<boolean> {
    if (this.closed || this.fits(size)) return Promise.resolve(!this.closed);
    return new Promise((resolve) => (this.waiter = { size, resolve }));
  }

  sent(text: string): void {
    this.pending += text;
  }

  /**
   * A phrase was announced, or failed: its text (trimmed, words unchanged)
   * left the server's buffer, together with the whitespace before it.
   */
  announced(phraseText: string): void {
    if (this.markup) this.pending = this.pending.replace(TAG, '');
    let need = phraseText.replace(/\s+/g, '').length;
    let i = 0;
    for (; i < this.pending.length && need > 0; i++) if (!isSpace(this.pending[i]!)) need--;
    this.pending = this.pending.slice(i);
    this.check();
  }

  /** The session is over: nothing waits any more. */
  close(): void {
    this.closed = true;
    this.check();
  }

  private fits(size: number): boolean {
    return this.pending.length === 0 || this.pending.length + size <= this.limit / 2;
  }

  private check(): void {
    if (this.waiter && (this.closed || this.fits(this.waiter.size))) {
      this.waiter.resolve(!this.closed);
      this.waiter = undefined;
    }
  }
}

/**
 * Cuts text into pieces of at most `max` UTF-16 units, preferring to cut after
 * whitespace and never inside a surrogate pair. The server's segmenter sees
 * the same phrases however text is split, so the cut only bounds message size.
 */
export function* slices(text: string, max: number): Generator<string> {
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max - 1) + 1;
    if (cut === 0) cut = max - (/[\uD800-\uDBFF]/.test(rest[max - 1]!) ? 1 : 0);
    yield rest.slice(0, cut);
    rest = rest.slice(cut);
  }
  if (rest) yield rest;
}
