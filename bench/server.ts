// The real server, as `emomix serve` runs it, in a child process of its own: its memory
// and CPU time are then its own, apart from the benchmark's clients.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { processCpuMs, residentBytes } from './machine.js';

export interface ServerOptions {
  modelsDir: string;
  voice: string;
  device: 'cpu' | 'cuda';
  /** Further `emomix serve` flags. */
  flags?: string[];
}

export class BenchServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts `emomix serve` from the TypeScript sources (what is checked out, not a stale build) and waits until it listens. */
  static async start(options: ServerOptions): Promise<BenchServer> {
    const root = new URL('..', import.meta.url);
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--models', options.modelsDir, '--voice', options.voice, '--device', options.device, ...(options.flags ?? [])];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    const port = await new Promise<number>((resolve, reject) => {
      // The log line "listening" carries the port picked for --port 0; later lines are read and dropped.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
        } catch {
          // not a log line
        }
      });
      child.once('exit', (code) => reject(new Error(`the server exited (code ${code}) before listening:\n${stderr.slice(-20).join('\n')}`)));
    });
    return new BenchServer(child, port);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v1/stream`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  rss(): Promise<number> {
    return residentBytes(this.pid);
  }

  cpuMs(): Promise<number> {
    return processCpuMs(this.pid);
  }

  /** SIGTERM: the server drains and exits. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await once(this.child, 'exit');
    clearTimeout(timer);
  }
}

/** Peak of `sample()` every `everyMs` until stopped. */
export function samplePeak(sample: () => Promise<number>, everyMs = 200): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await sample());
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(peak, await sample());
    },
  };
}
