// The RxJS pipeline of one run of a session (a session starts a new run after
// each cancel): text chunks → phrase segmentation → synthesis → delivery.
//
// Synthesis of phrase k+1 overlaps delivery of phrase k, but never runs further
// ahead than `lookahead` items: a credit is returned only when an item has been
// delivered, so a reader that stops reading stops synthesis too and a session
// holds at most `lookahead` rendered phrases. Order is preserved throughout.
// Every phrase cut from the text is accounted for: delivered (spoken or failed),
// or returned by cancel() together with the text not yet cut.
import { Observable, Subject, concatMap, endWith, ignoreElements, of, startWith, zip, type Subscription } from 'rxjs';
import type { PhraseSegmenter } from '../pipeline/segmenter.js';

export interface PhraseCue {
  id: number;
  text: string;
}

export type Outcome<R, M> =
  | { kind: 'rendered'; phrase: PhraseCue; value: R }
  | { kind: 'failed'; phrase: PhraseCue; error: unknown }
  | { kind: 'marker'; marker: M };

export interface RunStages<R, M> {
  /** Synthesizes one phrase; called in order, when its synthesis is due. Must stop when `signal` aborts. */
  render(phrase: PhraseCue, signal: AbortSignal): Promise<R>;
  /** Sends one outcome; completes when it has been delivered. Unsubscribing stops it. */
  deliver(outcome: Outcome<R, M>): Observable<unknown>;
  /** The pipeline itself broke (a bug, not a bad phrase). */
  crashed(error: unknown): void;
}

export interface Cancelled {
  /** Phrases announced to the client whose audio was cut short. */
  phrases: number[];
  /** Text accepted but never announced, in order. */
  text: string;
}

type Input<M> = { text: string } | { marker: M };
type Cue<M> = PhraseCue | { kind: 'marker'; marker: M };

export class SpeechRun<R, M> {
  private readonly input = new Subject<Input<M>>();
  private readonly credits = new Subject<void>();
  /** Cut from the text, not yet being delivered. */
  private readonly waiting = new Map<number, string>();
  /** Being delivered. */
  private readonly delivering = new Set<number>();
  private readonly subscription: Subscription;

  constructor(
    private readonly segmenter: PhraseSegmenter,
    private readonly nextId: () => number,
    stages: RunStages<R, M>,
    lookahead = 2,
  ) {
    const cues = this.input.pipe(
      concatMap((item): Cue<M>[] =>
        'text' in item ? this.cut(this.segmenter.push(item.text)) : [...this.cut(this.segmenter.flush()), { kind: 'marker', marker: item.marker }],
      ),
    );
    const grants = this.credits.pipe(startWith(...Array.from({ length: lookahead }, () => undefined)));
    this.subscription = zip(cues, grants)
      .pipe(
        concatMap(([cue]) => ('kind' in cue ? of(cue) : this.renderCue(cue, stages))),
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

  /** Cuts whatever text is buffered into phrases, then delivers `marker` after them. */
  flush(marker: M): void {
    this.input.next({ marker });
  }

  /** Characters accepted and not yet delivered or being delivered. */
  get pendingText(): number {
    let n = this.segmenter.buffered.length;
    for (const text of this.waiting.values()) n += text.length;
    return n;
  }

  /** True when nothing is waiting or being delivered. */
  get idle(): boolean {
    return this.waiting.size === 0 && this.delivering.size === 0 && this.segmenter.buffered.trim() === '';
  }

  /** Stops synthesis and delivery at once and reports what will never be spoken. */
  cancel(): Cancelled {
    this.subscription.unsubscribe();
    const text = [...this.waiting.values(), ...this.segmenter.flush()].join(' ');
    const phrases = [...this.delivering];
    this.waiting.clear();
    this.delivering.clear();
    return { phrases, text };
  }

  private cut(texts: string[]): PhraseCue[] {
    return texts.map((text) => {
      const cue = { id: this.nextId(), text };
      this.waiting.set(cue.id, text);
      return cue;
    });
  }

  private renderCue(cue: PhraseCue, stages: RunStages<R, M>): Observable<Outcome<R, M>> {
    return new Observable((subscriber) => {
      const abort = new AbortController();
      stages.render(cue, abort.signal).then(
        (value) => {
          subscriber.next({ kind: 'rendered', phrase: cue, value });
          subscriber.complete();
        },
        (error: unknown) => {
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
