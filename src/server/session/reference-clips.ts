// A session's reference emotions: clips the client sends (`reference`), each
// analysed into an embedding that its text may then name like one of the voice's
// own emotions. Clips are analysed one at a time (in an inference worker, which
// they then hold for up to a few hundred ms) and only MAX_WAITING may wait, so a
// client cannot queue unbounded audio and inference.
import { ErrorCode, ProtocolError } from '../../protocol/index.js';

const MAX_REFERENCES = 32;
const MAX_WAITING = 4;

export interface ClipAnswers {
  added(name: string): void;
  failed(error: unknown): void;
  /** The session is closing: a clip still waiting is not analysed, an answer not given. */
  gone(): boolean;
}

export class ReferenceClips {
  private readonly embeddings = new Map<string, Float32Array>();
  private waiting = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** The voice's own emotions, which a clip may not rename. */
    private readonly voiceEmotions: readonly string[],
    private readonly embed: (clip: Uint8Array) => Promise<Float32Array>,
    private readonly answers: ClipAnswers,
  ) {}

  /** The voice's emotions and the clips' names: what a mix may name. */
  get known(): string[] {
    return [...this.voiceEmotions, ...this.embeddings.keys()];
  }

  /** The embeddings, as a synthesis request's customEmotions. */
  get custom(): Record<string, Float32Array> {
    return Object.fromEntries(this.embeddings);
  }

  /** Resolves once every clip queued so far has had its answer. */
  get settled(): Promise<void> {
    return this.chain;
  }

  /** Queues a clip for analysis; its answer comes later. Throws ProtocolError when it is refused at once. */
  add(name: string, audio: Uint8Array): void {
    if (this.voiceEmotions.includes(name)) {
      throw new ProtocolError(ErrorCode.invalidField, `name: "${name}" is one of the voice's own emotions`, 'name');
    }
    if (!this.embeddings.has(name) && this.embeddings.size + this.waiting >= MAX_REFERENCES) {
      throw new ProtocolError(ErrorCode.invalidField, `name: at most ${MAX_REFERENCES} reference emotions per session`, 'name');
    }
    if (this.waiting >= MAX_WAITING) {
      throw new ProtocolError(ErrorCode.rateLimited, `audio: ${MAX_WAITING} reference clips are already waiting; wait for emotionAdded`, 'audio');
    }
    this.waiting++;
    this.chain = this.chain.then(() => this.analyse(name, audio)).finally(() => this.waiting--);
  }

  /** Never rejects: the outcome goes to the answers. */
  private async analyse(name: string, audio: Uint8Array): Promise<void> {
    if (this.answers.gone()) return;
    try {
      const embedding = await this.embed(audio);
      if (this.answers.gone()) return;
      this.embeddings.set(name, embedding);
      this.answers.added(name);
    } catch (error) {
      this.answers.failed(error);
    }
  }
}
