// What clients and the log get when synthesis fails: a public sentence per engine code
// (never the engine's message), and one log line per kind of failure and window.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SynthesisError } from '../src/pipeline/synthesis/index.js';
import type { Logger } from '../src/server/logger.js';
import { RepeatLog } from '../src/server/repeat-log.js';
import { failureKey, publicSynthesisMessage, referenceMessage } from '../src/server/synthesis-failure.js';

const internal = new SynthesisError('INFERENCE_FAILED', 'estimate: /srv/models/slt-emo/estimator.onnx: Non-zero status code returned while running Conv node');

describe('public synthesis messages', () => {
  it('name the code and keep the engine message out', () => {
    expect(publicSynthesisMessage(internal)).toBe('INFERENCE_FAILED: inference failed; the server log has the details');
    expect(publicSynthesisMessage(new SynthesisError('WEIGHT_INVALID', 'weights: the weights must sum to a finite number, got Infinity'))).not.toContain('Infinity');
    expect(publicSynthesisMessage(new TypeError('Cannot read properties of undefined'))).toBe('synthesis failed');
  });

  it('pass a clip refusal through (its message is written for clients) but not an inference failure', () => {
    expect(referenceMessage(new SynthesisError('WAV_INVALID', 'the clip is too short'))).toBe('the clip is too short');
    expect(referenceMessage(internal)).not.toContain('estimator.onnx');
  });
});

describe('RepeatLog', () => {
  afterEach(() => vi.useRealTimers());

  it('logs a failure once, then its repeats as one line per window', () => {
    vi.useFakeTimers();
    const lines: [Record<string, unknown>, string][] = [];
    const logger = { warn: (fields: Record<string, unknown>, msg: string) => lines.push([fields, msg]) } as unknown as Logger;
    const log = new RepeatLog(logger, 1000);
    for (let i = 0; i < 40_000; i++) log.warn(failureKey(internal), { phrase: i }, 'phrase failed');
    log.warn(failureKey(new SynthesisError('WORKER_DIED', 'exit code 1')), {}, 'phrase failed');
    expect(lines).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(3);
    expect(lines[2]![0]).toMatchObject({ failure: failureKey(internal), repeats: 39_999 });
    // A new window starts with a line of its own.
    log.warn(failureKey(internal), {}, 'phrase failed');
    expect(lines).toHaveLength(4);
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(4);
  });
});
