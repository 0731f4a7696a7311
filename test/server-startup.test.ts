// `emomix serve` as a process: the shipped voice served with no options, and
// start-up refusals that name what is wrong.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpusDecoder } from '../src/stream/opus.js';
import { spawnServe, TestClient, wordsOf, type ServeProcess } from './server-harness.js';

const SHIPPED_VOICE = 'models/slt-emo';

let proc: ServeProcess | undefined;

afterEach(() => {
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  proc = undefined;
});

describe('npm start', () => {
  it('serves the shipped slt-emo voice on $PORT with no options, as a client streams it', async () => {
    // `npm start` is `emomix serve` with no flags: everything below comes from the defaults and PORT.
    proc = spawnServe([], { PORT: '0', HOST: '127.0.0.1' });
    const port = await proc.listening;

    const voices = await (await fetch(`http://127.0.0.1:${port}/v1/voices`)).json();
    expect(voices.default).toBe('slt-emo');

    const client = await TestClient.connect(`ws://127.0.0.1:${port}/v1/stream`);
    const ready = await client.start({ steps: 2, seed: 1, emotion: { happy: 1 } });
    expect(ready).toMatchObject({ type: 'ready', voice: 'slt-emo', format: 'opus', sampleRate: 48_000 });
    const text = 'Hello there.';
    client.send({ type: 'text', text });
    client.send({ type: 'end' });
    expect((await client.closed).code).toBe(1000);

    const [phrase, ...more] = client.of('phrase');
    expect(more).toEqual([]);
    expect(wordsOf(phrase!.text)).toEqual(wordsOf(text));
    const decoder = createOpusDecoder();
    const samples = client.of('audio').flatMap((a) => (a.packets as Uint8Array[]).map((p) => decoder.decode(p).length));
    const total = samples.reduce((n, s) => n + s, 0);
    expect(total).toBe(Math.ceil((phrase!.durationMs * 48) / 960) * 960);
    expect(phrase!.durationMs).toBeGreaterThan(200);

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.log.filter((e) => 'unparsed' in e)).toEqual([]);
  }, 180_000);
});

describe('logs', () => {
  it('are JSON lines with level, time and message, tie a session’s entries to its id, and never hold the token', async () => {
    const token = 'tok-3a9f-secret';
    proc = spawnServe(['--port', '0', '--host', '127.0.0.1', '--models', 'test/fixtures', '--voice', 'tiny-voice', '--workers', '1'], {
      EMOMIX_AUTH_TOKEN: token,
      LOG_LEVEL: 'trace',
    });
    const port = await proc.listening;
    const base = `127.0.0.1:${port}`;
    const client = await TestClient.connect(`ws://${base}/v1/stream?token=${token}`);
    const { session } = await client.start();
    client.send({ type: 'dance' });
    client.send({ type: 'text', text: 'Logged.' });
    client.send({ type: 'end' });
    await client.closed;
    const intruder = await TestClient.connect(`ws://${base}/v1/stream?token=wrong-${token}`);
    expect((await intruder.closed).code).toBe(4401);
    expect((await fetch(`http://${base}/v1/voices?token=${token}`)).status).toBe(200);
    expect((await fetch(`http://${base}/v1/nothing-here?token=${token}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);

    expect(proc.log.filter((e) => 'unparsed' in e)).toEqual([]);
    for (const entry of proc.log) expect(entry).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String), service: 'emomix' });
    const ofSession = proc.log.filter((e) => e['session'] === session).map((e) => e['msg']);
    expect(ofSession).toEqual(expect.arrayContaining(['session started', 'rejected input', 'session closed']));
    expect(JSON.stringify(proc.log)).not.toContain(token);
  }, 60_000);
});

describe('start-up refusals', () => {
  it('exits 1 when a voice cannot be served, logging the file and the field at fault', async () => {
    const root = await mkdtemp(join(tmpdir(), 'emomix-serve-'));
    try {
      await cp('test/fixtures/tiny-voice', join(root, 'bad-voice'), { recursive: true });
      const manifestFile = join(root, 'bad-voice', 'voice.json');
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
      manifest.neutral = 'calm';
      await writeFile(manifestFile, JSON.stringify(manifest));

      proc = spawnServe(['--port', '0', '--models', root, '--voice', 'bad-voice']);
      expect(await proc.exited).toBe(1);
      const fatal = proc.log.find((e) => e['level'] === 60) as { msg: string; err: { message: string } } | undefined;
      expect(fatal?.msg).toContain(root);
      expect(fatal?.err.message).toContain(`${manifestFile} (neutral)`);
      expect(fatal?.err.message).toContain('"calm"');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);

  it('exits 2 on an invalid setting, before loading anything', async () => {
    proc = spawnServe(['--graph-optimization', 'max']);
    expect(await proc.exited).toBe(2);
    proc = spawnServe([], { EMOMIX_MAX_SESSIONS: 'many' });
    expect(await proc.exited).toBe(2);
  }, 60_000);
});
