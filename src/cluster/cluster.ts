// A local cluster: N `emomix serve` processes on fixed loopback ports and
// HAProxy in front of them. It supervises like an orchestrator would: an
// instance that exits is started again on its port (a new generation, so a new
// instance id), and a rolling restart replaces them one at a time, each only
// after HAProxy sees the previous replacement up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../server/logger.js';
import { parseStatsCsv, renderClusterConfig, type ServerState } from './haproxy-config.js';
import type { ClusterOptions } from './options.js';

const BACKEND = 'emomix';
const RESTART_DELAY_MS = 200;
const MAX_RESTART_DELAY_MS = 5000;
const START_TIMEOUT_MS = 120_000;

export interface InstanceInfo {
  name: string;
  id: string;
  pid: number | undefined;
  port: number;
}

/** A free loopback port, as the kernel hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** One instance's place in the cluster: its name and port stay, its process is replaced. */
class Slot {
  generation = -1;
  child: ChildProcess | undefined;
  listening: Promise<void> = Promise.resolve();
  private failures = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly spawnServe: (slot: Slot) => ChildProcess,
    private readonly log: Logger,
  ) {}

  get id(): string {
    return `${this.name}.${this.generation}`;
  }

  info(): InstanceInfo {
    return { name: this.name, id: this.id, pid: this.child?.pid, port: this.port };
  }

  start(supervised: () => boolean): void {
    this.generation++;
    const child = this.spawnServe(this);
    this.child = child;
    const startedAt = Date.now();
    this.listening = new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        process.stdout.write(`${line}\n`);
        if (line.includes('"msg":"listening"')) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`${this.id} exited (${signal ?? code}) before listening`)));
    });
    this.listening.catch(() => undefined);
    child.once('exit', (code, signal) => {
      this.log.info({ instance: this.id, pid: child.pid, code, signal }, 'instance exited');
      if (!supervised()) return;
      // Quick crashes back off, so a broken setting does not spin.
      this.failures = Date.now() - startedAt < 10_000 ? this.failures + 1 : 0;
      const delay = Math.min(RESTART_DELAY_MS * 2 ** this.failures, MAX_RESTART_DELAY_MS);
      setTimeout(() => supervised() && this.start(supervised), delay);
    });
    this.log.info({ instance: this.id, pid: child.pid, port: this.port }, 'instance started');
  }
}

export class Cluster {
  private readonly slots: Slot[] = [];
  private haproxy: ChildProcess | undefined;
  private workDir: string | undefined;
  private statsPort = 0;
  private stopping = false;
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly options: ClusterOptions,
    private readonly serveCommand: string[],
    private readonly log: Logger,
  ) {}

  instances(): InstanceInfo[] {
    return this.slots.map((s) => s.info());
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.statsPort}/stats;csv`;
  }

  async start(): Promise<void> {
    const { options } = this;
    const template = await readFile(options.config, 'utf8');
    for (let i = 1; i <= options.instances; i++) {
      this.slots.push(new Slot(`emomix-${i}`, await freePort(), (slot) => this.spawnInstance(slot), this.log));
    }
    this.statsPort = await freePort();
    this.workDir = await mkdtemp(join(tmpdir(), 'emomix-cluster-'));
    const configFile = join(this.workDir, 'haproxy.cfg');
    await writeFile(configFile, renderClusterConfig(template, this.slots.map((s) => ({ name: s.name, port: s.port, maxSessions: options.maxSessions }))));

    for (const slot of this.slots) slot.start(() => !this.stopping);
    await withTimeout(Promise.all(this.slots.map((s) => s.listening)), START_TIMEOUT_MS, 'instances listening');

    const haproxy = spawn(options.haproxy, ['-db', '-f', configFile], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, EMOMIX_LB_BIND: `${options.host}:${options.port}`, EMOMIX_LB_STATS_BIND: `127.0.0.1:${this.statsPort}` },
    });
    this.haproxy = haproxy;
    const failed = new Promise<never>((_, reject) => {
      haproxy.once('error', reject);
      haproxy.once('exit', (code) => reject(new Error(`haproxy exited with ${code}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([failed, this.until((servers) => servers.every((s) => s.status === 'UP'), START_TIMEOUT_MS, 'every instance UP in HAProxy')]);
    haproxy.once('exit', (code, signal) => {
      if (!this.stopping) this.log.error({ code, signal }, 'haproxy exited');
    });
  }

  /** HAProxy's view of the instances. */
  async servers(): Promise<ServerState[]> {
    const res = await fetch(this.statsUrl);
    return parseStatsCsv(await res.text(), BACKEND);
  }

  /** Replaces every instance, one at a time: SIGTERM (it drains), then wait until its successor is UP in HAProxy. */
  rollingRestart(): Promise<void> {
    this.restarting ??= (async () => {
      this.log.info('rolling restart');
      for (const slot of this.slots) {
        if (this.stopping) break;
        const old = slot.child!;
        const generation = slot.generation;
        old.kill('SIGTERM');
        await exitOf(old);
        await this.until((servers) => slot.generation > generation && servers.find((s) => s.name === slot.name)?.status === 'UP', START_TIMEOUT_MS, `${slot.name} back UP`);
        this.log.info({ instance: slot.id }, 'replaced');
      }
      this.log.info({ instances: this.instances() }, 'rolling restart done');
    })().finally(() => (this.restarting = undefined));
    return this.restarting;
  }

  /** Drains every instance (their sessions finish through HAProxy), then stops HAProxy. `now` kills instead. */
  async stop(now = false): Promise<void> {
    this.stopping = true;
    const children = this.slots.map((s) => s.child).filter((c): c is ChildProcess => c !== undefined);
    for (const child of children) child.kill(now ? 'SIGKILL' : 'SIGTERM');
    await Promise.all(children.map(exitOf));
    if (this.haproxy) {
      // SIGUSR1: soft stop, connections still open finish; there are none left.
      this.haproxy.kill(now ? 'SIGTERM' : 'SIGUSR1');
      await exitOf(this.haproxy);
    }
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }

  private spawnInstance(slot: Slot): ChildProcess {
    const [command, ...args] = this.serveCommand;
    return spawn(command!, [...args, '--host', '127.0.0.1', '--port', String(slot.port), '--instance-id', slot.id], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, EMOMIX_MAX_SESSIONS: String(this.options.maxSessions), EMOMIX_DRAIN_DELAY_MS: String(this.options.drainDelayMs) },
    });
  }

  private async until(predicate: (servers: ServerState[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.stopping) throw new Error(`stopped while waiting for ${what}`);
      const servers = await this.servers().catch(() => null);
      if (servers && servers.length > 0 && predicate(servers)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
