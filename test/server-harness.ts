// Shared by the server tests: a server on an ephemeral port with the fixture
// voice, and the project's protocol v1 client with a record of what it received.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll } from 'vitest';
import type { WebSocket } from 'ws';
import { Connection, type Closed, type ConnectOptions } from '../src/client/connection.js';
import { parseConfig, type ServerConfig } from '../src/server/config.js';
import { createLogger } from '../src/server/logger.js';
import { createServer, type EmomixServer } from '../src/server/server.js';
import { VoiceRegistry } from '../src/server/voices.js';

export const FIXTURE_MODELS = 'test/fixtures';
export const FIXTURE_VOICE = 'tiny-voice';

// Plain maps both ways, as any MessagePack library would write them.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });
export const pack = (value: unknown): Buffer => packr.pack(value);

export function loadFixtureVoices(): Promise<VoiceRegistry> {
  return VoiceRegistry.load({ modelsDir: FIXTURE_MODELS, defaultVoice: FIXTURE_VOICE, workers: 2, intraOpThreads: 1 });
}

export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const base = parseConfig([], {})!;
  return { ...base, host: '127.0.0.1', port: 0, modelsDir: FIXTURE_MODELS, defaultVoice: FIXTURE_VOICE, logLevel: 'silent', ...overrides };
}

export interface RunningServer {
  server: EmomixServer;
  port: number;
  http: string;
  ws: string;
}

export async function startServer(voices: VoiceRegistry, overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const config = testConfig(overrides);
  const server = createServer({ config, voices, logger: createLogger(config.logLevel) });
  const { port } = await server.listen();
  return { server, port, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/v1/stream` };
}

export interface FixtureServer extends RunningServer {
  voices: VoiceRegistry;
}

/**
 * One server on the fixture voice for the whole test file, closed after it.
 * The fields are filled in by beforeAll, so read them only inside hooks and tests.
 */
export function serveFixture(): FixtureServer {
  const fixture = {} as FixtureServer;
  beforeAll(async () => {
    fixture.voices = await loadFixtureVoices();
    Object.assign(fixture, await startServer(fixture.voices));
  }, 60_000);
  afterAll(async () => {
    await fixture.server?.close();
    await fixture.voices?.close();
  });
  return fixture;
}

// Loose view of server messages: tests check fields by name.
export type Message = Record<string, any> & { type: string };

/**
 * The project's client (src/client) with what tests add: a record of every
 * message and its arrival, loose message types, and a `send` that writes
 * whatever a test hands it, valid or not.
 */
export class TestClient {
  readonly messages: Message[] = [];
  /** Arrival time (performance.now()) of each message, same index as `messages`. */
  readonly arrivals: number[] = [];

  private constructor(readonly connection: Connection) {
    connection.onMessage((message, at) => {
      this.messages.push(message as Message);
      this.arrivals.push(at);
    });
  }

  static async connect(url: string, options?: ConnectOptions): Promise<TestClient> {
    return new TestClient(await Connection.open(url, options));
  }

  get socket(): WebSocket {
    return this.connection.socket;
  }

  get closed(): Promise<Closed> {
    return this.connection.closed;
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(pack(message));
  }

  /** Resolves with the first message from now on that matches. */
  next(predicate: string | ((m: Message) => boolean), timeoutMs = 20_000): Promise<Message> {
    const test = typeof predicate === 'string' ? (m: Message) => m.type === predicate : predicate;
    return this.connection.next((m) => test(m as Message), timeoutMs).then(
      (m) => m as Message,
      (error: Error) => Promise.reject(new Error(`${error.message} (waiting for ${String(predicate)}; got ${this.types().join(',')})`)),
    );
  }

  /** Starts a session and waits for `ready` (or the error refusing it). */
  start(fields: Record<string, unknown> = {}): Promise<Message> {
    return this.connection.start(fields, 20_000) as Promise<Message>;
  }

  of(type: string): Message[] {
    return this.messages.filter((m) => m.type === type);
  }

  types(): string[] {
    return this.messages.map((m) => m.type);
  }
}

/** Audio messages of one phrase, in order. */
export function audioOf(client: TestClient, phrase: number): Message[] {
  return client.of('audio').filter((m) => m.phrase === phrase);
}

/** Words of a text, for comparing what was sent with what was spoken or cancelled. */
export function wordsOf(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `emomix serve` in a process of its own. */
export interface ServeProcess {
  child: ChildProcess;
  /** Its log, one parsed JSON line per entry as they arrive ({unparsed} for a line that is not JSON). */
  log: Record<string, unknown>[];
  /** Its exit code. */
  exited: Promise<number | null>;
  /** The port from its `listening` line; rejects if it exits first. */
  listening: Promise<number>;
}

/** Runs `emomix serve` from the TypeScript sources (a built dist/ could be stale), like bin/emomix.js does without one. */
export function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}, stdout: 'pipe' | number = 'pipe'): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], { stdio: ['ignore', stdout, 'inherit'], env: { ...process.env, ...env } });
  const log: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    // With `stdout` a file descriptor the log goes there: `log` stays empty and `listening` never resolves.
    if (!child.stdout) return;
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { unparsed: line };
      }
      log.push(entry);
      if (entry['msg'] === 'listening') resolve(entry['port'] as number);
    });
    void exited.then((code) => reject(new Error(`emomix serve exited with ${code} before listening`)));
  });
  // Callers that expect a failed start never await this.
  listening.catch(() => undefined);
  return { child, log, exited, listening };
}
