// The plugin inside LiveKit's own voice pipeline: an AgentSession with
// LiveKit's FakeLLM, this TTS against a real emomix server, and an audio
// output that records what the session would play (no room needed).
import { AudioFrame } from '@livekit/rtc-node';
import { initializeLogger, voice } from '@livekit/agents';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { serveFixture, wordsOf } from '../../../test/server-harness.js';
import { SynthesizeStream, TTS } from '../src/index.js';

const srv = serveFixture();
beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

/** Records the frames the session plays; playback "finishes" as soon as a segment is flushed. */
class RecordingOutput extends voice.AudioOutput {
  readonly frames: AudioFrame[] = [];
  onFirstFrame?: () => void;

  constructor() {
    super(48_000);
  }

  private get seconds(): number {
    return this.frames.reduce((s, f) => s + f.samplesPerChannel / f.sampleRate, 0);
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    const segments = this.capturedPlayoutSegments;
    await super.captureFrame(frame);
    this.frames.push(frame);
    if (this.capturedPlayoutSegments !== segments) {
      this.onPlaybackStarted(Date.now());
      this.onFirstFrame?.();
    }
  }

  override flush(): void {
    super.flush();
    this.onPlaybackFinished({ playbackPosition: this.seconds, interrupted: false });
  }

  clearBuffer(): void {
    this.onPlaybackFinished({ playbackPosition: this.seconds, interrupted: true });
  }
}

/** The TTS, keeping the streams LiveKit opens so the test can read their outcome. */
class RecordedTTS extends TTS {
  readonly streams: SynthesizeStream[] = [];

  override stream(options?: Parameters<TTS['stream']>[0]): SynthesizeStream {
    const stream = super.stream(options);
    this.streams.push(stream);
    return stream;
  }
}

async function startSession(reply: string) {
  const tts = new RecordedTTS({ url: srv.ws });
  const session = new voice.AgentSession({ llm: new voice.testing.FakeLLM([{ input: 'hello', content: reply }]), tts });
  const output = new RecordingOutput();
  session.output.audio = output;
  const said: string[] = [];
  session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (ev: voice.ConversationItemAddedEvent) => {
    if (ev.item.type === 'message' && ev.item.role === 'assistant') said.push(ev.item.textContent ?? '');
  });
  await session.start({ agent: new voice.Agent({ instructions: `Speak expressively.\n${tts.markup.llmInstructions()}` }) });
  return { tts, session, output, said };
}

describe('in an AgentSession', () => {
  it("speaks the LLM's reply with its expressions as emotions, plays every frame and keeps markup out of the transcript", async () => {
    const reply = '<expr type="expression" label="excited"/> Great to see you again! <expr type="expression" label="sad"/> Sadly the shop is closed today.';
    const { tts, session, output, said } = await startSession(reply);
    session.generateReply({ userInput: 'hello' });
    await vi.waitFor(() => expect(said).toHaveLength(1), { timeout: 20_000 });
    const outcome = await tts.streams[0]!.outcome;

    const words = outcome.spoken.flatMap((p) => p.words);
    expect(words.map((w) => w.emotion)).toEqual([
      ...wordsOf('Great to see you again!').map(() => ({ happy: 0.6, surprise: 0.4 })),
      ...wordsOf('Sadly the shop is closed today.').map(() => ({ sad: 1 })),
    ]);
    const played = output.frames.reduce((n, f) => n + f.samplesPerChannel, 0);
    expect(played).toBe(outcome.spoken.reduce((n, p) => n + Math.ceil(Math.round(p.durationMs * 48) / 960) * 960, 0));
    expect(said[0]).not.toContain('<');
    expect(wordsOf(said[0]!)).toEqual(wordsOf('Great to see you again! Sadly the shop is closed today.'));
    await session.close();
    await tts.close();
  });

  it('cancels on the server when the user interrupts', async () => {
    const reply = Array.from({ length: 20 }, (_, i) => `Here is the detail number ${i + 1} of a long answer.`).join(' ');
    const { tts, session, output } = await startSession(reply);
    output.onFirstFrame = () => void session.interrupt();
    session.generateReply({ userInput: 'hello' });
    await vi.waitFor(() => expect(tts.streams).toHaveLength(1), { timeout: 20_000 });
    const outcome = await tts.streams[0]!.outcome;
    expect(outcome.spoken.length).toBeLessThan(20);
    expect(outcome.cancelledPhrases.length + wordsOf(outcome.cancelledText).length).toBeGreaterThan(0);
    await session.close();
    await tts.close();
  });
});
