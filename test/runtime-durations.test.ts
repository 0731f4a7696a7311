import { describe, expect, it } from 'vitest';
import { expandByDurations, frameMask, padFrames, phonePositions, roundDurations, totalFrames, wordTimings } from '../src/pipeline/synthesis/durations.js';

describe('durations', () => {
  it('rounds exp(logd)·lengthScale to the nearest frame, halves up, at least 1', () => {
    const logd = Float32Array.from([Math.log(2.2), Math.log(3), 0, -50, Math.log(2.6)]);
    expect(Array.from(roundDurations(logd, 1))).toEqual([2, 3, 1, 1, 3]);
    expect(Array.from(roundDurations(logd, 1.5))).toEqual([3, 5, 2, 1, 4]);
  });

  it('gives an utterance at least one frame', () => {
    expect(totalFrames(Int32Array.from([0, 0]))).toBe(1);
    expect(totalFrames(Int32Array.from([2, 3]))).toBe(5);
  });

  it('pads to the frame multiple', () => {
    expect([padFrames(5, 1), padFrames(5, 4), padFrames(8, 4)]).toEqual([5, 8, 8]);
  });

  it('places each frame inside its phoneme for the frame decoder, padding at 0', () => {
    const pos = phonePositions(Int32Array.of(2, 1, 3), 8);
    const close = (a: Float32Array, b: number[]) => b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    close(pos.subarray(0, 8), [0.25, 0.75, 0.5, 1 / 6, 0.5, 5 / 6, 0, 0]);
    close(pos.subarray(8), [Math.log(2) / 4, Math.log(2) / 4, 0, Math.log(3) / 4, Math.log(3) / 4, Math.log(3) / 4, 0, 0]);
    // Fewer frames than the durations' sum: the positions stop at the last frame.
    close(phonePositions(Int32Array.of(2, 4), 3).subarray(0, 3), [0.25, 0.75, 0.125]);
  });

  it('repeats μ per phoneme along time and leaves padding at 0', () => {
    // μ [2 channels, 3 phonemes]
    const mu = Float32Array.from([1, 2, 3, 10, 20, 30]);
    const out = expandByDurations(mu, 2, Int32Array.from([2, 0, 1]), 4);
    expect(Array.from(out)).toEqual([1, 1, 3, 0, 10, 10, 30, 0]);
    expect(Array.from(frameMask(3, 4))).toEqual([1, 1, 1, 0]);
  });

  it('times words by where their phonemes fall', () => {
    const durations = Int32Array.from([2, 3, 1, 4]);
    const words = wordTimings([{ word: 'a', start: 0, end: 2 }, { word: 'b', start: 2, end: 4 }], durations, 10);
    expect(words).toEqual([{ word: 'a', startMs: 0, endMs: 50 }, { word: 'b', startMs: 50, endMs: 100 }]);
  });
});
