// The Python example (clients/python) against a test server with the fixture
// voice, run by the system's python3 with Debian's websockets and msgpack.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav } from '../src/stream/wav.js';
import { reportedPhrases, rms, run, scratchDir, speechEnd, start, words } from './clients-harness.js';
import { serveFixture } from './server-harness.js';

const PYTHON = '/usr/bin/python3';
const CLIENT = 'clients/python/emomix_client.py';
const FRAME = 960;

const srv = serveFixture();
const dir = scratchDir('emomix-py-');

/** The WAV holds the stream as sent: the speech, the last phrase padded to a whole 20 ms frame. */
async function checkWav(path: string, stderr: string): Promise<void> {
  const wav = await readWav(readFileSync(path));
  expect(wav.sampleRate).toBe(48_000);
  const end = speechEnd(reportedPhrases(stderr));
  expect(wav.samples.length % FRAME).toBe(0);
  expect(wav.samples.length).toBeGreaterThanOrEqual(end - 48);
  expect(wav.samples.length).toBeLessThan(end + FRAME + 48);
  expect(rms(wav.samples)).toBeGreaterThan(0);
}

describe('Python client', () => {
  it('passes markup with --markup: tags are not spoken and each mix starts at its word', async () => {
    const out = join(dir, 'markup.wav');
    const text = 'Well. I am so glad you came, [emotion=sad]but I have some bad news.';
    const result = await run(PYTHON, [CLIENT, '--url', srv.ws, '--steps', '2', '--emotion', 'happy', '--markup', '--out', out, text]);
    expect(result.stderr).not.toMatch(/warning|error|Traceback/);
    expect(result.code).toBe(0);
    const phrases = reportedPhrases(result.stderr);
    expect(phrases.flatMap((p) => words(p.text))).toEqual(words('Well. I am so glad you came, but I have some bad news.'));
    expect(phrases.at(-1)!.mixes).toEqual(['from word 0 happy=1', 'from word 6 sad=1']);
    await checkWav(out, result.stderr);
  });

  it('speaks a text given as arguments into a WAV file', async () => {
    const out = join(dir, 'args.wav');
    const text = 'Hello from Python. This is a second sentence!';
    const result = await run(PYTHON, [CLIENT, '--url', srv.ws, '--steps', '2', '--emotion', 'happy=0.7,sad=0.3', '--out', out, text]);
    expect(result.stderr).not.toMatch(/warning|error|Traceback/);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/first audio \d+ ms · [\d.]+ s of audio in 2 phrases · real-time factor [\d.]+ · synthesis [\d.]+/);
    expect(reportedPhrases(result.stderr).flatMap((p) => words(p.text))).toEqual(words(text));
    await checkWav(out, result.stderr);
  });

  it('streams stdin, speaking before the input is complete', async () => {
    const out = join(dir, 'stdin.wav');
    const p = start(PYTHON, [CLIENT, '--url', srv.ws, '--steps', '2', '--out', out]);
    p.stdin.write('Streaming from a pipe, word by word. And');
    await p.waitForStderr(/^phrase 1 /m);
    p.stdin.end(' then the rest arrives.');
    const result = await p.done;
    expect(result.code).toBe(0);
    expect(reportedPhrases(result.stderr).flatMap((x) => words(x.text))).toEqual(words('Streaming from a pipe, word by word. And then the rest arrives.'));
    await checkWav(out, result.stderr);
  });

  it('exits with an error and leaves no output file when the server refuses the session', async () => {
    const out = join(dir, 'refused.wav');
    const result = await run(PYTHON, [CLIENT, '--url', srv.ws, '--emotion', 'bogus=1', '--out', out, 'Hi.']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: unknown_emotion/);
    expect(existsSync(out)).toBe(false);
  });

  it('sends --speaker in start: a speaker the voice lacks is refused by name', async () => {
    const result = await run(PYTHON, [CLIENT, '--url', srv.ws, '--speaker', 'nobody', '--out', join(dir, 'speaker.wav'), 'Hi.']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: unknown_speaker/);
  });

  it('says in one line that it cannot connect, without a traceback or a file', async () => {
    const out = join(dir, 'unreachable.wav');
    const result = await run(PYTHON, [CLIENT, '--url', 'ws://127.0.0.1:1/v1/stream', '--out', out, 'Hi.']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: ws:\/\/127\.0\.0\.1:1\/v1\/stream: .*(refused|failed)/im);
    expect(result.stderr).not.toContain('Traceback');
    expect(existsSync(out)).toBe(false);
  });

  it('names the Debian package and pip module it misses instead of a traceback', async () => {
    // -S leaves out site-packages, where Debian's python3-msgpack lives: the module is really missing.
    const result = await run(PYTHON, ['-S', CLIENT, '--url', srv.ws, '--out', join(dir, 'nomodule.wav'), 'Hi.']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("needs the Python module 'msgpack'");
    expect(result.stderr).toContain('apt install python3-msgpack');
    expect(result.stderr).toContain('pip install msgpack');
    expect(result.stderr).not.toContain('Traceback');
  });
});
