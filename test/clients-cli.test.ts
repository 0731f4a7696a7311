// `emomix say` and `emomix stream` against a test server with the fixture voice:
// the files they write are decoded and measured against the phrases the server
// reported; live output, flow control over long input, tokens and usage errors.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClientArgs, parseEmotion } from '../src/cli/speak/args.js';
import { Reporter } from '../src/cli/speak/report.js';
import { TextWindow } from '../src/cli/speak/text-window.js';
import { readWav } from '../src/stream/wav.js';
import { emomix, readOggOpus, reportedPhrases, rms, scratchDir, speechEnd, start, words, type Run } from './clients-harness.js';
import { serveFixture, startServer } from './server-harness.js';

const srv = serveFixture();
const dir = scratchDir('emomix-cli-');

const TEXT = 'Hello there, this is the first sentence. And here is a second one!';
const FRAME = 960;

function succeeded(result: Run): void {
  expect(result.stderr).not.toMatch(/warning|error/i);
  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/first audio \d+ ms · [\d.]+ s of audio in \d+ phrases? · real-time factor [\d.]+ · synthesis [\d.]+/);
}

describe('emomix say', () => {
  it('writes Ogg Opus that decodes to the reported phrase durations', async () => {
    const out = join(dir, 'say.ogg');
    const result = await emomix(['say', '--url', srv.ws, '--steps', '2', '--emotion', 'happy=0.7,surprise=0.3', '--verbose', '--out', out, TEXT]);
    succeeded(result);
    const phrases = reportedPhrases(result.stderr);
    expect(phrases.length).toBeGreaterThanOrEqual(2);
    expect(phrases.flatMap((p) => words(p.text))).toEqual(words(TEXT));

    const ogg = await readOggOpus(readFileSync(out));
    const end = speechEnd(phrases);
    // The file ends with the speech, or up to a pre-skip earlier: the server's encoder keeps its lookahead.
    const samples = Math.round(ogg.duration * 48_000);
    expect(samples).toBeLessThanOrEqual(end + 48);
    expect(samples).toBeGreaterThanOrEqual(end - ogg.preSkip - 48);
    expect(ogg.preSkip).toBeGreaterThan(0);
    // Every packet is a whole 20 ms frame, and the final granule falls inside the last one.
    expect(ogg.decoded.length % FRAME).toBe(0);
    expect(ogg.decoded.length - (samples + ogg.preSkip)).toBeLessThan(FRAME);
    expect(rms(ogg.decoded)).toBeGreaterThan(0);
  });

  it('writes a WAV file holding exactly the speech, with text from stdin', async () => {
    const out = join(dir, 'say.wav');
    const result = await emomix(['say', '--url', srv.ws, '--steps', '2', '-v', '--out', out], TEXT);
    succeeded(result);
    const wav = await readWav(readFileSync(out));
    expect(wav.sampleRate).toBe(48_000);
    expect(Math.abs(wav.samples.length - speechEnd(reportedPhrases(result.stderr)))).toBeLessThanOrEqual(48);
    expect(rms(wav.samples)).toBeGreaterThan(0);
  });

  it('plays through aplay found on PATH while writing Ogg, decoding the Opus it receives', async () => {
    const pcm = join(dir, 'played.raw');
    // A stand-in for aplay that records its arguments and the audio it is given.
    const fake = join(dir, 'aplay');
    writeFileSync(fake, `#!/bin/sh\necho "$@" > "${pcm}.args"\ncat > "${pcm}"\n`);
    chmodSync(fake, 0o755);
    const out = join(dir, 'played.ogg');
    const result = await emomix(['say', '--url', srv.ws, '--steps', '2', '-v', '--play', '--out', out, TEXT], '', { PATH: `${dir}:${process.env['PATH']}` });
    succeeded(result);
    expect(result.stderr).toMatch(/→ .*played\.ogg and aplay/);
    expect(readFileSync(`${pcm}.args`, 'utf8')).toMatch(/-t raw -f S16_LE -r 48000 -c 1/);
    const played = readFileSync(pcm);
    const ogg = await readOggOpus(readFileSync(out));
    // What was played: the decoded stream without its pre-skip, as 16-bit samples.
    expect(played.length).toBe((ogg.decoded.length - ogg.preSkip) * 2);
    expect(played.length / 2).toBeGreaterThanOrEqual(speechEnd(reportedPhrases(result.stderr)) - ogg.preSkip - 48);
  });

  it('feeds a text longer than the server buffers in slices, losing nothing', async () => {
    const small = await startServer(srv.voices, { maxBufferedText: 300 });
    try {
      const text = Array.from({ length: 50 }, (_, i) => `Sentence number ${i + 1} is here.`).join(' ');
      expect(text.length).toBeGreaterThan(4 * 300);
      const result = await emomix(['say', '--url', small.ws, '--steps', '1', '-v', '--out', join(dir, 'long.wav'), text]);
      succeeded(result);
      expect(reportedPhrases(result.stderr).flatMap((p) => words(p.text))).toEqual(words(text));
    } finally {
      await small.server.close();
    }
  });

  it('sends --speaker in start: a speaker the voice lacks is refused by name', async () => {
    const refused = await emomix(['say', '--url', srv.ws, '--speaker', 'nobody', '--out', join(dir, 'speaker.wav'), 'Who speaks?']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unknown_speaker/);
    succeeded(await emomix(['say', '--url', srv.ws, '--steps', '1', '--speaker', 'default', '--out', join(dir, 'speaker.wav'), 'Me.']));
  });

  it('sends --token, and reports the refusal without it', async () => {
    const guarded = await startServer(srv.voices, { authToken: 'sekrit' });
    try {
      const out = join(dir, 'token.wav');
      succeeded(await emomix(['say', '--url', guarded.ws, '--steps', '1', '--token', 'sekrit', '--out', out, 'Let me in.']));
      const refused = await emomix(['say', '--url', guarded.ws, '--out', out, 'Let me in.']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/emomix say: unauthorized/);
    } finally {
      await guarded.server.close();
    }
  });
});

describe('emomix stream', () => {
  it('changes emotion mid-stream with --markup: the tag is not spoken and the mix starts at its word', async () => {
    const out = join(dir, 'markup.wav');
    const text = 'Well, here goes. I am so glad you came, [emotion=sad]but I have some bad news. [emotion=happy ramp=300]Cheer up!';
    const result = await emomix(['stream', '--url', srv.ws, '--steps', '2', '--seed', '4', '--emotion', 'happy', '--markup', '-v', '--out', out], text);
    succeeded(result);
    const phrases = reportedPhrases(result.stderr);
    expect(phrases.flatMap((p) => words(p.text))).toEqual(words('Well, here goes. I am so glad you came, but I have some bad news. Cheer up!'));
    const inside = phrases.find((p) => p.text.startsWith('I am'))!;
    expect(inside.mixes).toEqual(['from word 0 (i) happy=1', 'from word 6 (but) sad=1']);
    expect(phrases.at(-1)!.mixes).toEqual(['from word 0 (cheer) happy=1']);
  });

  it('speaks stdin as it arrives and writes Ogg Opus as it goes', async () => {
    const out = join(dir, 'stream.ogg');
    const p = start(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'stream', '--url', srv.ws, '--steps', '2', '-v', '--out', out]);
    const first = 'The first sentence arrives on its own. ';
    const rest = 'Then, a while later, the rest follows. The end.';
    p.stdin.write(first + 'Then,');
    // The first phrase is spoken while stdin is still open.
    await p.waitForStderr(/^phrase 1 /m);
    p.stdin.end(rest.slice('Then,'.length));
    const result = await p.done;
    succeeded(result);
    const phrases = reportedPhrases(result.stderr);
    expect(phrases.flatMap((x) => words(x.text))).toEqual(words(first + rest));
    const ogg = await readOggOpus(readFileSync(out));
    const samples = Math.round(ogg.duration * 48_000);
    expect(samples).toBeLessThanOrEqual(speechEnd(phrases) + 48);
    expect(samples).toBeGreaterThanOrEqual(speechEnd(phrases) - ogg.preSkip - 48);
  });

  it('writes raw PCM to stdout with --out -', async () => {
    const result = await emomix(['stream', '--url', srv.ws, '--steps', '1', '-v', '--out', '-'], 'Raw samples, please.');
    succeeded(result);
    // The stream as sent: the phrase padded to whole 20 ms frames.
    const samples = result.stdout.length / 2;
    expect(samples % FRAME).toBe(0);
    expect(samples - speechEnd(reportedPhrases(result.stderr))).toBeLessThan(FRAME + 48);
  });
});

describe('options and report', () => {
  it('parses emotion mixes and refuses malformed ones', () => {
    expect(parseEmotion('happy=0.7, surprise=0.3')).toEqual({ happy: 0.7, surprise: 0.3 });
    expect(parseEmotion('sad')).toEqual({ sad: 1 });
    for (const bad of ['happy=x', 'happy=-1', 'happy=', '=1', 'happy=0']) expect(() => parseEmotion(bad)).toThrow(/--emotion/);
  });

  it('needs a destination it can write, and defaults the server address', () => {
    expect(() => parseClientArgs(['hi'], {})).toThrow(/--out FILE, --out - or --play/);
    expect(() => parseClientArgs(['--out', 'x.mp3', 'hi'], {})).toThrow(/\.ogg, \.opus or \.wav/);
    expect(() => parseClientArgs(['--out', '-', '--play'], {})).toThrow(/pick one/);
    expect(parseClientArgs(['--out', 'a.wav'], {})).toMatchObject({ url: 'ws://127.0.0.1:8080/v1/stream', token: undefined });
    expect(parseClientArgs(['--out', 'a.wav'], { EMOMIX_URL: 'ws://h:1/v1/stream', EMOMIX_TOKEN: 't' })).toMatchObject({ url: 'ws://h:1/v1/stream', token: 't' });
    expect(parseClientArgs(['--help'], {})).toBeNull();
  });

  it('keeps one progress line on a terminal, cleared before anything else is printed', () => {
    let written = '';
    const out = { write: (s: string) => ((written += s), true) } as unknown as NodeJS.WritableStream;
    const reporter = new Reporter(out, { verbose: false, quiet: false, progress: true, totalChars: 500 });
    reporter.progress({ chars: 100, phrases: 2, audioMs: 3200 });
    // Updates closer together than a quarter second are dropped.
    reporter.progress({ chars: 120, phrases: 2, audioMs: 3200 });
    expect(written).toBe('\r\x1b[K100/500 characters sent · 2 phrases · 3.2 s of audio');
    reporter.summary({ phrases: 3, audioMs: 4000, firstAudioMs: 150.4, wallMs: 1000, stats: undefined, failure: undefined }, 'x.ogg');
    expect(written.slice(written.indexOf('audio') + 5)).toBe('\r\x1b[Kfirst audio 150 ms · 4.00 s of audio in 3 phrases · real-time factor 0.250 → x.ogg\n');
  });
});

describe('TextWindow', () => {
  it('with markup, counts emotion tags as gone once the text around them is announced', async () => {
    const window = new TextWindow(40, true);
    window.sent('[emotion=sad]Hi there. ');
    expect(await Promise.race([window.room(15), Promise.resolve('waiting')])).toBe('waiting');
    window.announced('Hi there.');
    expect(await window.room(15)).toBe(true);
    const plain = new TextWindow(40);
    plain.sent('[emotional] Hi. ');
    plain.announced('[emotional] Hi.');
    expect(await plain.room(10)).toBe(true);
  });
});
