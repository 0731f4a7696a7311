// Marks keep their place in the text through phrase segmentation.
import { describe, expect, it } from 'vitest';
import { createPhraseSegmenter } from '../src/pipeline/segmenter.js';
import { PhraseCutter } from '../src/server/phrase-cutter.js';

function cut(steps: (string | { mark: string })[]) {
  const cutter = new PhraseCutter<string>(createPhraseSegmenter());
  const out = steps.flatMap((s) => (typeof s === 'string' ? cutter.push(s) : (cutter.mark(s.mark), [])));
  return [...out, ...cutter.flush()];
}

describe('PhraseCutter', () => {
  const steps = ['Well, here goes.  I am so glad you came, ', { mark: 'sad' }, 'but not now. ', { mark: 'happy' }, '  Then more.'];
  const expected = [
    { text: 'Well, here goes.', marks: [] },
    { text: 'I am so glad you came, but not now.', marks: [{ at: 23, change: 'sad' }] },
    { text: 'Then more.', marks: [{ at: 0, change: 'happy' }] },
  ];

  it('gives each phrase the marks inside it, as offsets in its own text; a mark between phrases opens the next', () => {
    expect(cut(steps)).toEqual(expected);
    expect(expected[1]!.text.slice(23)).toBe('but not now.');
  });

  it('places them the same when the text comes one character at a time', () => {
    expect(cut(steps.flatMap((s): (string | { mark: string })[] => (typeof s === 'string' ? [...s] : [s])))).toEqual(expected);
  });

  it('keeps a mark after the last text for the text that follows a flush', () => {
    const cutter = new PhraseCutter<string>(createPhraseSegmenter());
    cutter.push('First.');
    expect(cutter.flush()).toEqual([{ text: 'First.', marks: [] }]);
    cutter.mark('sad');
    expect(cutter.pendingMarks).toEqual(['sad']);
    cutter.push('Second.');
    expect(cutter.flush()).toEqual([{ text: 'Second.', marks: [{ at: 0, change: 'sad' }] }]);
  });

  it('keeps one mark per place, the last, however many arrive there', () => {
    const cutter = new PhraseCutter<string>(createPhraseSegmenter());
    cutter.push('One two ');
    for (let k = 0; k < 10_000; k++) cutter.mark(`m${k}`);
    expect(cutter.pendingMarks).toEqual(['m9999']);
    cutter.push('three.');
    expect(cutter.flush()).toEqual([{ text: 'One two three.', marks: [{ at: 8, change: 'm9999' }] }]);
  });
});
