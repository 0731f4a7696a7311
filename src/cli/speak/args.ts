// Command-line options shared by `emomix say` and `emomix stream`, with their
// help text. The server address and token may also come from the environment
// (a token on the command line shows in `ps`).
import { parseArgs } from 'node:util';
import type { EmotionWeights } from '../../protocol/index.js';

export type Command = 'say' | 'stream';

export interface ClientOptions {
  url: string;
  token: string | undefined;
  voice: string | undefined;
  speaker: string | undefined;
  emotion: EmotionWeights | undefined;
  steps: number | undefined;
  speed: number | undefined;
  seed: number | undefined;
  /** Read emotion tags in the text (start.markup). */
  markup: boolean;
  /** A file path (.ogg, .opus, .wav) or '-' for raw PCM on stdout. */
  out: string | undefined;
  play: boolean;
  verbose: boolean;
  quiet: boolean;
  positionals: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_URL = 'ws://127.0.0.1:8080/v1/stream';

const USAGE: Record<Command, string> = {
  say: `usage: emomix say [options] [TEXT...]

Speaks TEXT (or, without it, all of stdin) through a running server.`,
  stream: `usage: emomix stream [options] < text

Speaks stdin while it is still being written: each chunk read is sent at
once, so piping an LLM's output in gets speech before the reply is complete.`,
};

export function helpText(command: Command): string {
  return `${USAGE[command]}

  --out FILE        write FILE.ogg / FILE.opus (Ogg Opus, the packets the server
                    sent) or FILE.wav (16-bit PCM), as the audio arrives;
                    --out - writes raw PCM to stdout (s16le, 48 kHz, mono), e.g.
                    | aplay -t raw -f S16_LE -r 48000 -c 1
  --play            pipe the PCM into aplay, or SoX's play when there is no
                    aplay on PATH (with --out FILE too, both happen)
  --emotion MIX     e.g. happy=0.7,surprise=0.3 (a bare name weighs 1) [the voice's neutral]
  --markup          read emotion tags in the text, which change the emotion
                    where they stand, mid-stream too: "Great! [emotion=sad
                    ramp=500]But then it rained." (tags: docs/protocol.md)
  --voice ID        voice to speak with [the server's default]
  --speaker ID      speaker of a voice with several (GET /v1/voices lists them) [the voice's first]
  --steps N         diffusion steps: fewer are faster [the voice's default]
  --speed X         speaking rate, 0.25 to 4 [1]
  --seed N          fixed noise, for repeatable output
  --url URL         server stream endpoint, or $EMOMIX_URL [${DEFAULT_URL}]
  --token TOKEN     bearer token, or $EMOMIX_TOKEN (preferred: flags show in ps)
  --verbose         print each phrase with its place on the timeline, and
                    the word at which each of its emotion mixes starts
  --quiet           print errors only
  --help            show this text

Prints first-audio latency and real-time factor (wall time / audio time) to
stderr; a progress line too while a long input is spoken on a terminal.
Ctrl-C stops the speech and closes the file properly; a second one quits.`;
}

/** Parses `happy=0.7,surprise=0.3`; a name without a value weighs 1. */
export function parseEmotion(spec: string): EmotionWeights {
  const weights: EmotionWeights = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name = '', value] = part.split('=', 2).map((s) => s.trim());
    const weight = value === undefined ? 1 : Number(value);
    if (!name || !Number.isFinite(weight) || weight < 0 || value === '') throw new UsageError(`--emotion: "${part}" is not NAME or NAME=WEIGHT with WEIGHT ≥ 0`);
    weights[name] = weight;
  }
  if (!Object.values(weights).some((w) => w > 0)) throw new UsageError('--emotion: at least one weight must be positive');
  return weights;
}

function number(flag: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag}: expected ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
  return n;
}

/** Parses argv; returns null for --help. Throws UsageError. */
export function parseClientArgs(argv: string[], env: NodeJS.ProcessEnv): ClientOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        play: { type: 'boolean' },
        emotion: { type: 'string', short: 'e' },
        markup: { type: 'boolean' },
        voice: { type: 'string' },
        speaker: { type: 'string' },
        steps: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  const out = values.out;
  if (out === undefined && !values.play) throw new UsageError('say where the audio goes: --out FILE, --out - or --play');
  if (out !== undefined && out !== '-' && !/\.(ogg|opus|wav)$/i.test(out)) throw new UsageError(`--out: "${out}" should end in .ogg, .opus or .wav (or be - for raw PCM)`);
  if (out === '-' && values.play) throw new UsageError('--out - and --play both want the PCM; pick one');
  return {
    url: values.url ?? (env['EMOMIX_URL'] || DEFAULT_URL),
    token: values.token ?? (env['EMOMIX_TOKEN'] || undefined),
    voice: values.voice,
    speaker: values.speaker,
    emotion: values.emotion === undefined ? undefined : parseEmotion(values.emotion),
    steps: number('steps', values.steps, true),
    speed: number('speed', values.speed, false),
    seed: number('seed', values.seed, true),
    markup: values.markup ?? false,
    out,
    play: values.play ?? false,
    verbose: values.verbose ?? false,
    quiet: values.quiet ?? false,
    positionals,
  };
}
