// Deadlines of phrases synthesized before the phrases ahead of them are done: the audio
// those are expected to give, guessed from their text at the stream's speaking rate.
import { describe, expect, it } from 'vitest';
import { ExpectedAudio, FIRST_GUESS_MS_PER_CHARACTER } from '../src/server/expected-audio.js';

describe('ExpectedAudio', () => {
  it('puts a phrase after the expected audio of the phrases begun before it and not yet placed', () => {
    const expected = new ExpectedAudio();
    const first = expected.begin(20);
    const second = expected.begin(10);
    const third = expected.begin(5);
    expect(first.afterMs).toBe(0);
    expect(second.afterMs).toBe(20 * FIRST_GUESS_MS_PER_CHARACTER);
    expect(third.afterMs).toBe(30 * FIRST_GUESS_MS_PER_CHARACTER);
    // Placed, the first counts in the audio placed and no longer here.
    first.placed(1200);
    expect(second.afterMs).toBe(0);
    expect(third.afterMs).toBe(10 * FIRST_GUESS_MS_PER_CHARACTER);
    // Given up (failed, cancelled), the second expects nothing either.
    second.release();
    expect(third.afterMs).toBe(0);
  });

  it('learns the speaking rate from the audio placed, ignoring phrases with nothing to say', () => {
    const expected = new ExpectedAudio();
    expect(expected.msPerCharacter).toBe(FIRST_GUESS_MS_PER_CHARACTER);
    expected.begin(20).placed(1400);
    expected.begin(8).placed(0);
    expect(expected.msPerCharacter).toBe(70);
    expected.begin(10).placed(500);
    expect(expected.msPerCharacter).toBeCloseTo(1900 / 30, 9);
    const next = expected.begin(30);
    expect(expected.begin(1).afterMs).toBeCloseTo(1900, 9);
    next.release();
  });

  it('counts a phrase once: placing it after it was given up, or twice, changes nothing', () => {
    const expected = new ExpectedAudio();
    const first = expected.begin(10);
    first.release();
    first.placed(5000);
    expect(expected.msPerCharacter).toBe(FIRST_GUESS_MS_PER_CHARACTER);
    const second = expected.begin(10);
    second.placed(600);
    second.placed(6000);
    second.release();
    expect(expected.msPerCharacter).toBe(60);
    expect(expected.begin(4).afterMs).toBe(0);
  });
});
