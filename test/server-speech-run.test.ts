// The session pipeline's ordering, bounded lookahead, failures and cancel
// accounting, with stand-in stages so each step is under the test's control.
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createPhraseSegmenter } from '../src/pipeline/segmenter.js';
import { SpeechRun, type Outcome } from '../src/server/session/speech-run.js';

type Marker = 'flushed';

function harness(render: (text: string, signal: AbortSignal) => Promise<string>) {
  const rendered: number[] = [];
  const delivered: string[] = [];
  const pending: (() => void)[] = [];
  const signals: AbortSignal[] = [];
  let ids = 0;
  const run = new SpeechRun<string, Marker>(createPhraseSegmenter({ earlyFirstPhrase: false }), () => ++ids, {
    render: (phrase, signal) => {
      rendered.push(phrase.id);
      signals.push(signal);
      return render(phrase.text, signal);
    },
    deliver: (outcome: Outcome<string, Marker>) =>
      new Observable((subscriber) => {
        delivered.push(outcome.kind === 'marker' ? `<${outcome.marker}>` : outcome.kind === 'failed' ? `!${outcome.phrase.text}` : outcome.value);
        pending.push(() => subscriber.complete());
      }),
    crashed: (error) => {
      throw error;
    },
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  /** Completes the oldest delivery in progress. */
  const release = async () => {
    pending.shift()!();
    await settle();
  };
  return { run, rendered, delivered, signals, release, settle };
}

describe('SpeechRun', () => {
  it('keeps order and synthesizes at most two phrases ahead of delivery', async () => {
    const h = harness(async (text) => text.toUpperCase());
    h.run.push('One. Two. Three. Four. ');
    h.run.flush('flushed');
    await h.settle();
    expect(h.rendered).toEqual([1, 2]);
    expect(h.delivered).toEqual(['ONE.']);
    await h.release();
    expect(h.rendered).toEqual([1, 2, 3]);
    expect(h.delivered).toEqual(['ONE.', 'TWO.']);
    for (let i = 0; i < 3; i++) await h.release();
    expect(h.delivered).toEqual(['ONE.', 'TWO.', 'THREE.', 'FOUR.', '<flushed>']);
    await h.release();
    expect(h.run.idle).toBe(true);
  });

  it('preserves order when later phrases synthesize faster', async () => {
    const h = harness((text) => new Promise((resolve) => setTimeout(() => resolve(text), text.startsWith('The first') ? 30 : 1)));
    h.run.push('The first sentence is slow to render. The second one is quick. So is the third one here. ');
    h.run.flush('flushed');
    while (h.delivered.length < 4) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (h.delivered.length > 0 && h.delivered.at(-1) !== '<flushed>') await h.release();
    }
    expect(h.delivered).toEqual(['The first sentence is slow to render.', 'The second one is quick.', 'So is the third one here.', '<flushed>']);
  });

  it('turns a failed synthesis into a failed outcome and goes on', async () => {
    const h = harness(async (text) => {
      if (text === 'Bad.') throw new Error('boom');
      return text;
    });
    h.run.push('Good. Bad. Fine. ');
    h.run.flush('flushed');
    for (let i = 0; i < 4; i++) {
      await h.settle();
      await h.release();
    }
    expect(h.delivered).toEqual(['Good.', '!Bad.', 'Fine.', '<flushed>']);
  });

  it('cancel aborts synthesis and returns every word not spoken', async () => {
    const h = harness((text, signal) => new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
    h.run.push('First phrase. Second phrase. Third');
    await h.settle();
    expect(h.run.pendingText).toBeGreaterThan(0);
    const cancelled = h.run.cancel();
    expect(h.signals[0]!.aborted).toBe(true);
    expect(cancelled).toEqual({ phrases: [], text: 'First phrase. Second phrase. Third' });
    expect(h.run.idle).toBe(true);
    h.run.push('More. ');
    await h.settle();
    expect(h.delivered).toEqual([]);
  });

  it('cancel reports the phrase being delivered separately from text never announced', async () => {
    const h = harness(async (text) => text);
    h.run.push('Spoken now. Waiting next. Not yet cut');
    await h.settle();
    expect(h.delivered).toEqual(['Spoken now.']);
    expect(h.run.cancel()).toEqual({ phrases: [1], text: 'Waiting next. Not yet cut' });
  });

  it('synthesizes two phrases at once and delivers them in order', async () => {
    const finish = new Map<string, (value: string) => void>();
    const h = harness((text, signal) => new Promise((resolve, reject) => {
      finish.set(text, resolve);
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }));
    h.run.push('One. Two. Three. ');
    h.run.flush('flushed');
    await h.settle();
    expect(h.rendered).toEqual([1, 2]);
    expect(h.run.unrendered).toBe(3);
    finish.get('Two.')!('TWO.');
    await h.settle();
    // Two waits for one, however early it is ready.
    expect(h.delivered).toEqual([]);
    expect(h.run.unrendered).toBe(2);
    finish.get('One.')!('ONE.');
    await h.settle();
    expect(h.delivered).toEqual(['ONE.']);
    await h.release();
    expect(h.delivered).toEqual(['ONE.', 'TWO.']);
    expect(h.rendered).toEqual([1, 2, 3]);
    // Cancel aborts what is in flight and returns the text never delivered.
    expect(h.run.cancel()).toEqual({ phrases: [2], text: 'Three.' });
    expect(h.signals[2]!.aborted).toBe(true);
  });

  it('cancel aborts every phrase synthesizing at once', async () => {
    const h = harness((text, signal) => new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))));
    h.run.push('First phrase. Second phrase. Third. ');
    await h.settle();
    expect(h.rendered).toEqual([1, 2]);
    expect(h.run.cancel()).toEqual({ phrases: [], text: 'First phrase. Second phrase. Third.' });
    expect(h.signals.map((signal) => signal.aborted)).toEqual([true, true]);
    expect(h.run.unrendered).toBe(0);
  });
});
