// A session's emotion mix along its audio timeline. Changes are anchored at text
// positions (an `emotion` message or a markup tag between two words): the runtime
// places each at its word and returns the phrase's course, which this timeline
// carries on into the next phrase (a ramp may span several phrases). Pure.
import { CheckedMix, checkedMix, courseMixAt, pieceAt, pieceMixAt, withIntensity, type CoursePiece, type EmotionCourse, type Mix } from '../pipeline/synthesis/index.js';
import type { EmotionTag } from './markup.js';
import type { EmotionWeights, PhraseRamp, PhraseSegment, WordTiming } from '../protocol/index.js';

/** One change of the mix, checked and scaled to sum 1 where it entered; carried as is to the runtime. */
export interface EmotionChange {
  mix: CheckedMix;
  rampMs: number;
}

/** A mix as the protocol writes it. */
export const toWeights = (mix: Mix): EmotionWeights => Object.fromEntries(mix);

/**
 * The change a markup tag asks for, or why it cannot be made: `known` lists the names
 * weights may use, `base` is the session's starting mix.
 */
export function changeForTag(tag: EmotionTag, voice: { neutral: string; known: readonly string[]; base: CheckedMix }): EmotionChange | string {
  if (tag.kind === 'base') return { mix: voice.base, rampMs: tag.rampMs };
  const unknown = Object.keys(tag.weights).find((name) => !voice.known.includes(name));
  if (unknown !== undefined) return `unknown emotion "${unknown}" (known: ${voice.known.join(', ')})`;
  return { mix: checkedMix(withIntensity(checkedMix(tag.weights), voice.neutral, tag.intensity)), rampMs: tag.rampMs };
}

/** The first piece of a phrase's course, as the runtime's request takes it (phrase time). */
export interface PhraseStart {
  weights: CheckedMix;
  ramp?: { to: CheckedMix; startMs: number; endMs: number };
}

export class EmotionTimeline {
  /** The last piece of the course so far, in session time. */
  private state: CoursePiece;

  constructor(initial: CheckedMix) {
    this.state = { atMs: 0, from: initial };
  }

  /** The mix at a point of the timeline, as far as phrases synthesized so far have set it. */
  mixAt(ms: number): EmotionWeights {
    return toWeights(pieceMixAt(this.state, ms));
  }

  /** How a phrase starting at `startMs` begins: where the mix is there, and any ramp still running. */
  forPhrase(startMs: number): PhraseStart {
    const { from, ramp } = this.state;
    // Mixes here come from checked ones (or lie between two of them on a ramp).
    if (!ramp || startMs >= ramp.endMs) return { weights: new CheckedMix(pieceMixAt(this.state, startMs)) };
    return { weights: new CheckedMix(from), ramp: { to: new CheckedMix(ramp.to), startMs: ramp.startMs - startMs, endMs: ramp.endMs - startMs } };
  }

  /** Whether the mix stays the same from `ms` on, as far as phrases synthesized so far have set it (no ramp runs past it). */
  steadyFrom(ms: number): boolean {
    const { ramp } = this.state;
    return !ramp || ms >= ramp.endMs;
  }

  /** After a phrase starting at `startMs` was synthesized along `course`: the mix carries on from its last piece. */
  advance(startMs: number, course: EmotionCourse): void {
    const last = course[course.length - 1]!;
    this.state = {
      atMs: startMs + last.atMs,
      from: last.from,
      ...(last.ramp ? { ramp: { to: last.ramp.to, startMs: startMs + last.ramp.startMs, endMs: startMs + last.ramp.endMs } } : {}),
    };
  }
}

/** What a `phrase` message says about emotion (docs/protocol.md, "phrase"). */
export interface PhraseEmotion {
  emotion: EmotionWeights;
  ramp?: PhraseRamp;
  segments: PhraseSegment[];
  /** The mix at the middle of each word, in order. */
  wordMixes: EmotionWeights[];
}

/**
 * The phrase's emotion on the session timeline: course piece k > 0 is the change that
 * took over at word changeWords[k − 1]; words are relative to the phrase start.
 */
export function describePhraseEmotion(course: EmotionCourse, changeWords: readonly number[], startMs: number, words: readonly WordTiming[]): PhraseEmotion {
  const rampOf = (piece: CoursePiece, fromMs: number): PhraseRamp | undefined =>
    piece.ramp && piece.ramp.endMs > fromMs ? { to: toWeights(piece.ramp.to), startMs: startMs + piece.ramp.startMs, endMs: startMs + piece.ramp.endMs } : undefined;
  const segments = course.map((piece, k): PhraseSegment => {
    const ramp = rampOf(piece, piece.atMs);
    return {
      word: k === 0 ? 0 : Math.min(changeWords[k - 1]!, words.length),
      startMs: startMs + piece.atMs,
      emotion: toWeights(pieceMixAt(piece, piece.atMs)),
      ...(ramp ? { ramp } : {}),
    };
  });
  const ramp = rampOf(pieceAt(course, 0), 0);
  return {
    emotion: toWeights(courseMixAt(course, 0)),
    ...(ramp ? { ramp } : {}),
    // A later change at the same instant replaces an earlier one: only the last is reported.
    segments: segments.filter((s, k) => k + 1 === segments.length || segments[k + 1]!.startMs > s.startMs),
    wordMixes: words.map((w) => toWeights(courseMixAt(course, (w.startMs + w.endMs) / 2))),
  };
}
