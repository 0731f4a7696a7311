// The RxJS pipeline of one run of a session (a session starts a new run after
// each cancel): text chunks → phrase segmentation → synthesis → delivery.
//
// Phrases are synthesized in parallel, up to `lookahead` items ahead of delivery
// (one long text given at once keeps every inference worker busy), and delivered
// strictly in order. A credit is returned only when an item has been delivered, so
// a reader that stops reading stops synthesis too and a session holds at most
// `lookahead` rendered phrases.
// Every phrase cut from the text is accounted for: delivered (spoken or failed),
// or returned by cancel() together with the text not yet cut.
import { Observable, Subject, concatMap, endWith, ignoreElements, map, mergeMap, of, startWith, zip, type OperatorFunction, type Subscription } from 'rxjs';
import type { PhraseSegmenter } from '../../pipeline/segmenter.js';
import { PhraseCutter, type TextMark } from '../phrase-cutter.js';

export interface PhraseCue<E = unknown> {
  id: number;
  text: string;
  /** Emotion changes inside (or just before) the phrase's text, in order. */
  marks: TextMark<E>[];
}

export type Outcome<R, M, E = unknown> =
  | { kind: 'rendered'; phrase: PhraseCue<E>; value: R }
  | { kind: 'failed'; phrase: PhraseCue<E>; error: unknown }
  | { kind: 'marker'; marker: M };

export interface RunStages<R, M, E = unknown> {
  /**
   * Synthesizes one phrase; called in order, when its synthesis may start, while earlier ones
   * may still be under way. Must stop when `signal` aborts.
   */
  render(phrase: PhraseCue<E>, signal: AbortSignal): Promise<R>;
  /** Sends one outcome; completes when it has been delivered. Unsubscribing stops it. */
  deliver(outcome: Outcome<R, M, E>): Observable<unknown>;
  /** The pipeline itself broke (a bug, not a bad phrase). */
  crashed(error: unknown): void;
}

export interface Cancelled<E = unknown> {
  /** Phrases announced to the client whose audio was cut short. */
  phrases: number[];
  /** Text accepted but never announced, in order. */
  text: string;
  /** The last emotion change of the text never announced (it is still the one in force for what follows). */
  lastChange?: E;
}

type Input<M, E> = { text: string } | { marker: M } | { mark: E } | { hurry: true };
type Cue<M, E> = PhraseCue<E> | { kind: 'marker'; marker: M };

export class SpeechRun<R, M, E = unknown> {
  private readonly input = new Subject<Input<M, E>>();
  private readonly cutter: PhraseCutter<E>;
  private readonly credits = new Subject<void>();
  /** Cut from the text, not yet being delivered. */
  private readonly waiting = new Map<number, PhraseCue<E>>();
  /** Being delivered. */
  private readonly delivering = new Set<number>();
  /** Cut from the text and not yet synthesized (or failed). */
  private readonly unrenderedIds = new Set<number>();
  private readonly subscription: Subscription;

  constructor(
    segmenter: PhraseSegmenter,
    private readonly nextId: () => number,
    stages: RunStages<R, M, E>,
    lookahead = 2,
  ) {
    this.cutter = new PhraseCutter<E>(segmenter);
    const cues = this.input.pipe(
      concatMap((item): Cue<M, E>[] => {
        if ('text' in item) return this.cut(this.cutter.push(item.text));
        if ('mark' in item) return (this.cutter.mark(item.mark), []);
        if ('hurry' in item) return this.cut(this.cutter.hurry());
        return [...this.cut(this.cutter.flush()), { kind: 'marker', marker: item.marker }];
      }),
    );
    const grants = this.credits.pipe(startWith(...Array.from({ length: lookahead }, () => undefined)));
    this.subscription = zip(cues, grants)
      .pipe(
        // Every granted cue starts at once; unsubscribing aborts all of them.
        mergeMap(([cue], index) => ('kind' in cue ? of(cue) : this.renderCue(cue, stages)).pipe(map((outcome) => [index, outcome] as const))),
        inOrder<Outcome<R, M, E>>(),
        concatMap((outcome) => {
          if (outcome.kind !== 'marker') {
            this.waiting.delete(outcome.phrase.id);
            this.delivering.add(outcome.phrase.id);
          }
          return stages.deliver(outcome).pipe(ignoreElements(), endWith(outcome));
        }),
      )
      .subscribe({
        next: (outcome) => {
          if (outcome.kind !== 'marker') this.delivering.delete(outcome.phrase.id);
          this.credits.next();
        },
        error: (error: unknown) => stages.crashed(error),
      });
  }

  /** Appends text; phrases are cut as the segmenter finds their ends. */
  push(text: string): void {
    this.input.next({ text });
  }

  /** An emotion change at the current end of the text: it applies from the next word on. */
  mark(change: E): void {
    this.input.next({ mark: change });
  }

  /** The listener is about to run out of audio: cut the buffered text at its next pause point. */
  hurry(): void {
    this.input.next({ hurry: true });
  }

  /** Cuts whatever text is buffered into phrases, then delivers `marker` after them. */
  flush(marker: M): void {
    this.input.next({ marker });
  }

  /** Characters accepted and not yet delivered or being delivered. */
  get pendingText(): number {
    let n = this.cutter.buffered.length;
    for (const cue of this.waiting.values()) n += cue.text.length;
    return n;
  }

  /** Phrases cut from the text whose synthesis has not finished: audio the listener will get. */
  get unrendered(): number {
    return this.unrenderedIds.size;
  }

  /** True when nothing is waiting or being delivered. */
  get idle(): boolean {
    return this.waiting.size === 0 && this.delivering.size === 0 && this.cutter.buffered.trim() === '';
  }

  /** Stops synthesis and delivery at once and reports what will never be spoken. */
  cancel(): Cancelled<E> {
    this.subscription.unsubscribe();
    const rest: { text: string; marks: TextMark<E>[] }[] = [...this.waiting.values(), ...this.cutter.flush()];
    const changes = [...rest.flatMap((cue) => cue.marks.map((m) => m.change)), ...this.cutter.pendingMarks];
    const phrases = [...this.delivering];
    this.waiting.clear();
    this.delivering.clear();
    this.unrenderedIds.clear();
    return { phrases, text: rest.map((cue) => cue.text).join(' '), ...(changes.length > 0 ? { lastChange: changes[changes.length - 1]! } : {}) };
  }

  private cut(cut: { text: string; marks: TextMark<E>[] }[]): PhraseCue<E>[] {
    return cut.map(({ text, marks }) => {
      const cue = { id: this.nextId(), text, marks };
      this.waiting.set(cue.id, cue);
      this.unrenderedIds.add(cue.id);
      return cue;
    });
  }

  private renderCue(cue: PhraseCue<E>, stages: RunStages<R, M, E>): Observable<Outcome<R, M, E>> {
    return new Observable((subscriber) => {
      const abort = new AbortController();
      stages.render(cue, abort.signal).then(
        (value) => {
          this.unrenderedIds.delete(cue.id);
          subscriber.next({ kind: 'rendered', phrase: cue, value });
          subscriber.complete();
        },
        (error: unknown) => {
          this.unrenderedIds.delete(cue.id);
          if (abort.signal.aborted) return;
          subscriber.next({ kind: 'failed', phrase: cue, error });
          subscriber.complete();
        },
      );
      // Unsubscribing (cancel, disconnect) aborts synthesis between estimator steps.
      return () => abort.abort();
    });
  }
}

/** [position, item] pairs back in the order of their positions (from 0, one item each): an item waits for every one before it. */
function inOrder<T>(): OperatorFunction<readonly [number, T], T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const held = new Map<number, T>();
      let next = 0;
      return source.subscribe({
        next: ([position, item]) => {
          held.set(position, item);
          // `next` moves on before the item goes out: delivering it may bring the next one re-entrantly.
          while (held.has(next)) {
            const value = held.get(next)!;
            held.delete(next++);
            subscriber.next(value);
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
