// Phrase segmentation that keeps marks (emotion changes) at their place in the text:
// each phrase comes out with the marks that fall inside it, as offsets into its own
// (trimmed) text. A mark between phrases belongs to the next one, at offset 0.
import type { PhraseSegmenter } from '../pipeline/segmenter.js';

export interface TextMark<E> {
  /** Offset in the phrase's text of the character before which the mark stands. */
  at: number;
  change: E;
}

export interface CutPhrase<E> {
  text: string;
  marks: TextMark<E>[];
}

export class PhraseCutter<E> {
  /** Characters pushed so far: the stream offset of the next one. */
  private pushed = 0;
  /** Marks not yet in a phrase, by stream offset, in order. */
  private marks: { at: number; change: E }[] = [];

  constructor(private readonly segmenter: PhraseSegmenter) {}

  /** Text received and not yet cut into a phrase. */
  get buffered(): string {
    return this.segmenter.buffered;
  }

  push(text: string): CutPhrase<E>[] {
    const raw = this.segmenter.buffered + text;
    const rawStart = this.pushed - this.segmenter.buffered.length;
    this.pushed += text.length;
    return this.place(raw, rawStart, this.segmenter.push(text));
  }

  /**
   * A mark at the current end of the text. A later mark at the same place replaces an
   * earlier one (it would take over at the same instant), so marks stay bounded by the text.
   */
  mark(change: E): void {
    const last = this.marks[this.marks.length - 1];
    if (last?.at === this.pushed) last.change = change;
    else this.marks.push({ at: this.pushed, change });
  }

  /** The listener is about to run dry: cut at the next pause point (see PhraseSegmenter.hurry). */
  hurry(): CutPhrase<E>[] {
    const raw = this.segmenter.buffered;
    return this.place(raw, this.pushed - raw.length, this.segmenter.hurry());
  }

  /** Cuts whatever is buffered; marks after the last text wait for the next. */
  flush(): CutPhrase<E>[] {
    const raw = this.segmenter.buffered;
    return this.place(raw, this.pushed - raw.length, this.segmenter.flush());
  }

  /** The marks not yet in a phrase. */
  get pendingMarks(): E[] {
    return this.marks.map((m) => m.change);
  }

  /** Finds each (trimmed) phrase in the raw text it was cut from, in order, and gives it its marks. */
  private place(raw: string, rawStart: number, phrases: string[]): CutPhrase<E>[] {
    let cursor = 0;
    return phrases.map((text) => {
      const found = raw.indexOf(text, cursor);
      const local = found >= 0 ? found : cursor;
      cursor = local + text.length;
      const start = rawStart + local;
      const end = start + text.length;
      let taken = 0;
      while (taken < this.marks.length && this.marks[taken]!.at < end) taken++;
      const marks = this.marks.splice(0, taken).map(({ at, change }) => ({ at: Math.max(0, at - start), change }));
      return { text, marks };
    });
  }
}
