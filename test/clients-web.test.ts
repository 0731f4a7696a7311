// The browser studio end to end, in headless Chromium (the system's, never a
// downloaded one) against a test server with the fixture voice: Opus decoded
// by WebCodecs and played through Web Audio, a slider moved and a flush
// mid-stream, words highlighted as they are heard; and, on a phone-sized page,
// a custom emotion from a clip, the pcm16 fallback and a barge-in.
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpack } from 'msgpackr';
import { VoiceRegistry } from '../src/server/voices.js';
import { writeWav } from '../src/stream/wav.js';
import { until } from './reliability-harness.js';
import { FIXTURE_MODELS, serveFixture, startServer } from './server-harness.js';

const CHROMIUM = '/usr/bin/chromium';

interface Stats {
  decodedFrames: number;
  scheduledMs: number;
  gaps: number;
  wordsHeard: number;
  playing: boolean;
  taking: boolean;
  errors: number;
}

const srv = serveFixture();
let browser: Browser;

const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });

describe('studio files', () => {
  it('serves the page at / and the MessagePack codec from node_modules, no build step needed', async () => {
    const page = await fetch(`${srv.http}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('<script src="vendor/msgpackr.js"></script>');
    const codec = await fetch(`${srv.http}/vendor/msgpackr.js`);
    expect(codec.status).toBe(200);
    expect(codec.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await codec.text()).toMatch(/\.msgpackr=\{\}/);
    expect((await fetch(`${srv.http}/vendor/other.js`)).status).toBe(404);
  });
});

describe('browser studio', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the studio, collecting console errors and uncaught exceptions. */
  async function open(query = '', viewport = { width: 1280, height: 900 }): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
    await page.goto(`${srv.http}/${query}`);
    await page.getByLabel('happy').waitFor();
    return { page, problems };
  }

  const stats = (page: Page): Promise<Stats> => page.evaluate(() => (window as unknown as { studio: { stats: Stats } }).studio.stats);

  it('streams token by token, decodes Opus, follows a slider moved mid-stream, flushes and highlights words as heard', async () => {
    const { page, problems } = await open();
    expect(await page.locator('#m-codec').textContent()).toBe('Opus (WebCodecs)');
    await page.getByLabel('Text to speak').fill('Hello! I am streaming this reply token by token. Midway the mood should change. By now it should be a happy voice.');
    await page.getByLabel('token by token, like an LLM').check();
    // Slow enough that tokens still stream when the first audio is heard, even on a loaded machine:
    // the slider's change lands where the text is being sent, and Flush needs text still arriving.
    await page.getByLabel('Token rate').fill('4');
    await page.getByRole('button', { name: 'Play' }).click();

    await page.waitForFunction(() => (window as any).studio.stats.decodedFrames > 0);
    await page.getByLabel('happy').fill('90');
    // Flush while tokens still arrive: what was sent so far becomes a phrase, mid-sentence.
    await page.getByRole('button', { name: 'Flush' }).click();
    await page.waitForFunction(() => (window as any).studio.stats.wordsHeard > 0);
    const early = await stats(page);
    await page.waitForFunction(() => !(window as any).studio.stats.taking && !(window as any).studio.stats.playing, null, { timeout: 30_000 });

    const final = await stats(page);
    expect(final.errors).toBe(0);
    expect(final.decodedFrames).toBeGreaterThan(early.decodedFrames);
    expect(final.scheduledMs).toBeGreaterThan(1000);
    // Highlighting advanced with playback, to every word.
    const wordCount = await page.locator('#phrases .word').count();
    expect(final.wordsHeard).toBeGreaterThan(early.wordsHeard);
    expect(final.wordsHeard).toBe(wordCount);
    expect(await page.locator('#phrases .word:not(.heard)').count()).toBe(0);
    // The first phrase kept the starting mix; a later one was synthesized with the slider's.
    const metas = await page.locator('#phrases .meta').allTextContents();
    expect(metas.length).toBeGreaterThanOrEqual(3);
    expect(metas[0]).toMatch(/neutral 100%/);
    expect(metas.at(-1)).toMatch(/happy 100%/);
    for (const meta of metas) expect(meta).toMatch(/first audio in \d+ ms/);
    expect(metas.some((meta) => /[^.!?]” ·/.test(meta))).toBe(true);
    expect(await page.locator('#m-first').textContent()).toMatch(/^\d+ ms$/);
    expect(await page.locator('#chart').getAttribute('aria-label')).toMatch(/happy/);
    expect(problems).toEqual([]);

    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/studio.png', fullPage: true });
    await page.close();
  }, 60_000);

  it('reads emotion tags typed in the text box and underlines each word in the colour of its emotion', async () => {
    const { page, problems } = await open('?format=pcm16');
    await page.getByLabel('all at once').check();
    expect(await page.getByLabel('Read emotion tags in the text').isChecked()).toBe(true);
    await page.getByLabel('Text to speak').fill('Well. I am so glad you came, [emotion=sad]but I have some bad news.');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => !(window as any).studio.stats.taking && !(window as any).studio.stats.playing && (window as any).studio.stats.wordsHeard > 0, null, { timeout: 30_000 });
    const words = await page.locator('#phrases .word').evaluateAll((els) => els.map((el) => [el.textContent, (el as HTMLElement).dataset.emotion, getComputedStyle(el).borderBottomColor]));
    expect(words.map(([w]) => w).join(' ')).toBe('well i am so glad you came but i have some bad news');
    // Up to "came" neutral; from "i" on sad ("but" itself is spoken within the 100 ms transition).
    expect(words.slice(0, 7).map(([, e]) => e)).toEqual(Array(7).fill('neutral'));
    expect(words.slice(8).map(([, e]) => e)).toEqual(Array(5).fill('sad'));
    // neutral's grey, then sad's blue (mix.js PALETTE).
    expect(words[1]![2]).toBe('rgb(138, 143, 152)');
    expect(words.at(-1)![2]).toBe('rgb(59, 125, 216)');
    const metas = await page.locator('#phrases .meta').allTextContents();
    expect(metas[1]).toMatch(/from “but”: sad 100%/);
    expect((await stats(page)).errors).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('recovers when the server refuses the start: the error is shown and Play works again without a reload', async () => {
    const { page, problems } = await open('?format=pcm16');
    await page.getByLabel('all at once').check();
    await page.getByLabel('Text to speak').fill('Second time lucky.');
    // The server's limit is 100 steps: this start is refused with invalid_field.
    await page.getByLabel('Diffusion steps').fill('500');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => (window as any).studio.stats.errors > 0 && !(window as any).studio.stats.taking, null, { timeout: 10_000 });
    expect(await page.locator('#status').textContent()).toMatch(/invalid_field: steps/);
    expect(await page.getByRole('button', { name: 'Play' }).isEnabled()).toBe(true);

    await page.getByLabel('Diffusion steps').fill('');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => !(window as any).studio.stats.taking && !(window as any).studio.stats.playing && (window as any).studio.stats.wordsHeard > 0, null, { timeout: 30_000 });
    expect(await page.locator('#phrases .word').allTextContents()).toEqual(['second', 'time', 'lucky']);
    expect(await page.locator('#status').textContent()).toBe('Done.');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('on a phone: adds an emotion from a clip, falls back to pcm16 and stops at once on Escape (barge-in)', async () => {
    const { page, problems } = await open('?format=pcm16', { width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    expect(await page.locator('#m-codec').textContent()).toBe('PCM (no WebCodecs)');

    await page.getByLabel('Clip (a few seconds of speech)').setInputFiles({ name: 'my whisper.wav', mimeType: 'audio/wav', buffer: Buffer.from(chirp()) });
    expect(await page.getByLabel('Name').inputValue()).toBe('my_whisper');
    await page.getByRole('button', { name: 'Add emotion' }).click();
    await page.getByLabel('my_whisper').fill('50');

    await page.getByLabel('all at once').check();
    await page.getByLabel('Text to speak').fill('This is a long reply that the listener interrupts. It goes on and on. Nobody hears this part.');
    await page.getByLabel('Text to speak').press('Control+Enter');
    await page.waitForFunction(() => (window as any).studio.stats.wordsHeard > 0);
    expect(await page.locator('#phrases .meta').first().textContent()).toMatch(/my_whisper 100%/);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !(window as any).studio.stats.taking && !(window as any).studio.stats.playing, null, { timeout: 5000 });
    const final = await stats(page);
    expect(final.decodedFrames).toBe(0);
    expect(final.scheduledMs).toBeGreaterThan(0);
    expect(await page.locator('#status').textContent()).toMatch(/^Cancelled/);
    // Words after the barge-in were never heard.
    expect(final.wordsHeard).toBeLessThan(await page.locator('#phrases .word').count());
    expect(final.errors).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
  it('picks a speaker of a multi-speaker voice and starts the take with it; a one-speaker voice has none to pick', async () => {
    const single = await open();
    expect(await single.page.getByLabel('Speaker').isDisabled()).toBe(true);
    await single.page.close();

    const voices = await VoiceRegistry.load({ modelsDir: FIXTURE_MODELS, defaultVoice: 'tiny-voice-speakers', workers: 1, intraOpThreads: 1 });
    const multi = await startServer(voices);
    const page = await browser.newPage();
    try {
      const sent: Record<string, unknown>[] = [];
      page.on('websocket', (ws) => ws.on('framesent', (f) => void (typeof f.payload !== 'string' && sent.push(unpack(f.payload)))));
      await page.goto(`${multi.http}/`);
      await page.getByLabel('happy').waitFor();
      const picker = page.getByLabel('Speaker');
      expect(await picker.isDisabled()).toBe(false);
      expect(await picker.locator('option').allTextContents()).toEqual(['Speaker 0011 (0011)', 'Speaker 0012 (0012)']);
      await picker.selectOption('0012');
      await page.getByLabel('Text to speak').fill('Spoken by the second speaker.');
      await page.getByLabel('Text to speak').press('Control+Enter');
      await page.waitForFunction(() => (window as any).studio.stats.wordsHeard > 0);
      expect(sent.find((m) => m['type'] === 'start')).toMatchObject({ voice: 'tiny-voice-speakers', speaker: '0012' });
      expect((await stats(page)).errors).toBe(0);
    } finally {
      await page.close();
      await multi.server.close();
      await voices.close();
    }
  }, 60_000);
});

describe('studio security', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('does not send the token to another host named in ?url= unless the user confirms it', async () => {
    // Another host, as far as the browser is concerned (another port): it records what reaches it.
    const seen: { method: string; path: string; authorization: string | undefined }[] = [];
    const other = createHttpServer((req, res) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization' });
      res.end(JSON.stringify({ default: 'x', voices: [] }));
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherUrl = `ws://127.0.0.1:${(other.address() as AddressInfo).port}/v1/stream`;
    try {
      for (const answer of ['dismiss', 'accept'] as const) {
        const page = await browser.newPage();
        const dialogs: string[] = [];
        page.on('dialog', (d) => {
          dialogs.push(d.message());
          void d[answer]();
        });
        seen.length = 0;
        await page.goto(`${srv.http}/?url=${encodeURIComponent(otherUrl)}&token=s3cret`);
        if (answer === 'dismiss') {
          // Refused: the studio falls back to its own server, which lists the voices.
          await page.getByLabel('happy').waitFor();
          expect(await page.locator('#url').inputValue()).toBe(`ws://127.0.0.1:${srv.port}/v1/stream`);
          expect(seen).toEqual([]);
        } else {
          // Confirmed: the token goes there (after the CORS preflight, which carries none).
          await until(() => seen.some((r) => r.method === 'GET'), 10_000, 'the confirmed host being asked for its voices');
          expect(seen.find((r) => r.method === 'GET')).toMatchObject({ path: '/v1/voices', authorization: 'Bearer s3cret' });
        }
        expect(dialogs).toHaveLength(1);
        expect(dialogs[0]).toContain(`127.0.0.1:${(other.address() as AddressInfo).port}`);
        await page.close();
      }
    } finally {
      other.close();
    }
  }, 60_000);

  it('loads and speaks under an Origin allow-list that does not name its own server', async () => {
    const voices = await VoiceRegistry.load({ modelsDir: FIXTURE_MODELS, defaultVoice: 'tiny-voice', workers: 1, intraOpThreads: 1 });
    const guarded = await startServer(voices, { allowedOrigins: ['https://app.example'] });
    const page = await browser.newPage();
    try {
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${guarded.http}/`);
      await page.getByLabel('happy').waitFor();
      await page.getByLabel('all at once').check();
      await page.getByLabel('Text to speak').fill('Same origin is welcome.');
      await page.getByRole('button', { name: 'Play' }).click();
      await page.waitForFunction(() => (window as any).studio.stats.wordsHeard > 0, null, { timeout: 30_000 });
      expect(problems).toEqual([]);
      // Another origin is still refused.
      expect((await fetch(`${guarded.http}/v1/voices`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    } finally {
      await page.close();
      await guarded.server.close();
      await voices.close();
    }
  }, 60_000);
});

/** Half a second of a decaying chirp, as a 16 kHz WAV file. */
function chirp(): Uint8Array {
  const rate = 16_000;
  const n = rate / 2;
  return writeWav(
    Float32Array.from({ length: n }, (_, i) => 0.25 * Math.sin((2 * Math.PI * (200 + i / 20) * i) / rate) * Math.exp(-i / n)),
    rate,
  );
}
