// docs/protocol.md is the contract clients are written from: it must name every
// code and every field the server sends, and its client sketch must stream.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ERRORS, ErrorCode } from '../src/protocol/index.js';
import { readWav, writeWav } from '../src/stream/wav.js';
import { serveFixture, TestClient, wordsOf, type Message } from './server-harness.js';

const srv = serveFixture();
let doc: string;

beforeAll(async () => {
  doc = await readFile('docs/protocol.md', 'utf8');
});

/** Whether the doc shows `name` as code, alone or in a path (`stats.phrases`, `words[].word`). */
const documented = (name: string) => new RegExp('`([\\w.[\\]]+\\.)?' + name + '(\\.[\\w.]+)?`').test(doc);

/** Every key of a message, nested maps and arrays of maps included. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      if (key !== 'emotion' && key !== 'to') keysOf(inner, into); // weights maps: their keys are emotion names
    }
  }
  return into;
}

describe('docs/protocol.md', () => {
  it('lists every error code and close code', () => {
    for (const code of Object.values(ErrorCode)) expect({ code, documented: documented(code) }).toEqual({ code, documented: true });
    for (const code of Object.values(CloseCode)) expect(doc).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('gives each error code the HTTP status and close code of the error catalogue', () => {
    for (const code of Object.values(ErrorCode)) {
      // | `code` | meaning | fatal: no, yes (4401), both (1001) or blank | HTTP status or blank |
      const row = new RegExp(`^\\| \`${code}\` \\|.*\\|([^|]*)\\|([^|]*)\\|$`, 'm').exec(doc);
      expect(row, code).not.toBeNull();
      const [fatal, status] = [row![1]!.trim(), row![2]!.trim()];
      const close = /\((\d+)\)/.exec(fatal)?.[1];
      expect({ code, close: close && Number(close) }).toEqual({ code, close: ERRORS[code].close });
      // A blank status: the code is never sent over HTTP.
      if (status) expect({ code, status: Number(status) }).toEqual({ code, status: ERRORS[code].status });
    }
  });

  it('names every message type and field a session sends', async () => {
    const client = await TestClient.connect(srv.ws);
    await client.start({ emotion: { happy: 1 }, timings: true });
    const tone = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 5) * Math.sin(i / 700));
    client.send({ type: 'reference', name: 'calm', audio: writeWav(tone, 16_000) });
    await client.next('emotionAdded');
    client.send({ type: 'steps' });
    client.send({ type: 'text', text: 'One sentence here. ' });
    client.send({ type: 'flush' });
    await client.next('flushed');
    client.send({ type: 'emotion', weights: { calm: 1 }, rampMs: 5000 });
    client.send({ type: 'text', text: 'Another sentence, ramping slowly towards calm. And more.' });
    await client.next('audio');
    client.send({ type: 'cancel' });
    await client.next('cancelled');
    client.send({ type: 'end' });
    await client.closed;

    const types = new Set(client.types());
    expect([...types].sort()).toEqual(['audio', 'cancelled', 'done', 'emotionAdded', 'error', 'flushed', 'phrase', 'ready']);
    expect(client.of('phrase').some((p) => p.ramp)).toBe(true);
    for (const type of types) expect(doc).toContain(`### \`${type}\``);
    const keys = new Set(client.messages.flatMap((m: Message) => [...keysOf(m)]));
    for (const key of keys) expect({ key, documented: documented(key) }).toEqual({ key, documented: true });
  });

  // Debian's Python, which has the sketch's two libraries (test-all installs them; pyenv's python3 may not).
  const python = '/usr/bin/python3';

  it('has a client sketch that streams a text to a WAV file', async () => {
    const sketch = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(sketch).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'emomix-sketch-'));
    try {
      await writeFile(join(dir, 'client.py'), sketch!);
      const text = 'Written from the page alone. It works, in any language!';
      const out = join(dir, 'out.wav');
      const run = spawn(python, [join(dir, 'client.py'), srv.ws, text, out]);
      let stdout = '';
      run.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      run.stderr.pipe(process.stderr);
      expect(await new Promise((resolve) => run.on('close', resolve))).toBe(0);

      const printed = stdout.split('\n').flatMap((line) => /^\s*\d+ ms {2}(.*)$/.exec(line)?.[1] ?? []);
      expect(printed.flatMap(wordsOf)).toEqual(wordsOf(text));
      const wav = await readWav(await readFile(out));
      expect(wav.sampleRate).toBe(48_000);
      expect(wav.samples.length).toBeGreaterThan(0);
      expect(wav.samples.length % 960).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
