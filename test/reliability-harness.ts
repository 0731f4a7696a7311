// Shared by the reliability suites (fuzz, faults, soak, security): knobs read
// from the environment, a seeded generator, the accounting invariant, resource
// probes and the figures each suite reports. `npm run reliability` runs the
// suites with the full-length knobs; the defaults are the short CI versions.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'vitest';
import { Mulberry32 } from '../src/pipeline/synthesis/rng.js';
import { pack, type Message, type TestClient } from './server-harness.js';

/** A positive integer from the environment, or the CI default. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** Seeded choices, so that a failing run is replayed by its seed. */
export class Rng {
  private readonly source: Mulberry32;

  constructor(readonly seed: number) {
    this.source = new Mulberry32(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.source.nextUniform() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.source.nextUniform() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

/**
 * Prints a suite's figures, and writes them to $RELIABILITY_REPORT/<suite>.json when
 * that is set (by `npm run reliability`, so that a concurrent `npm test` does not
 * overwrite a full run's figures with its own).
 */
export function report(suite: string, figures: Record<string, unknown>): void {
  const entry = { suite, at: new Date().toISOString(), ...figures };
  console.log(`[reliability] ${JSON.stringify(entry)}`);
  const dir = process.env.RELIABILITY_REPORT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${suite}.json`), `${JSON.stringify(entry, null, 2)}\n`);
}

const roundTrip = new Packr({ useRecords: false, mapsAsObjects: true });
/** Text as the server receives it (MessagePack writes a lone surrogate as U+FFFD), whitespace aside. */
const letters = (text: string): string => (roundTrip.unpack(pack(text)) as string).replace(/\s+/g, '');

/** What a session reported about the text it accepted, in order, as `letters`. */
export function reportedText(messages: readonly Message[]): string {
  return messages
    .flatMap((m) => (m.type === 'phrase' || m.type === 'cancelled' || (m.type === 'error' && m.code === 'synthesis_failed') ? [m.text as string] : []))
    .map(letters)
    .join('');
}

/**
 * Accounting: every text a session accepted was reported exactly once and in
 * order — announced in a `phrase`, named by a `synthesis_failed` error, or
 * returned by `cancelled`. Whitespace is left out: phrases are trimmed.
 */
export function expectAccounted(client: TestClient, accepted: readonly string[]): void {
  expect(reportedText(client.messages)).toBe(accepted.map(letters).join(''));
}

let collect: (() => void) | undefined;
/** Runs a full garbage collection (V8 lets a flag expose gc() after start-up). */
export function gc(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
}

export const openFds = (): number => readdirSync('/proc/self/fd').length;

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) * 1024;
}

export const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** The p-th percentile (0–100) of a sample, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resolves with the milliseconds it took once `condition` holds, checking every 10 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

/** Live handles and requests of this process by kind (sockets, timers, …), for leak checks; immediates come and go. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) if (kind !== 'Immediate') counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
