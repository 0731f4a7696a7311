import { describe, expect, it } from 'vitest';
import { Subject, Subscription, VirtualTimeScheduler, from, lastValueFrom, toArray, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { pacePackets } from '../src/stream/pacing.js';

/** Subscribes a paced Subject on a virtual clock; returns the feed and what came out when. */
function harness(scheduler: SchedulerLike & { now(): number }, options: Parameters<typeof pacePackets>[0] = {}) {
  const source = new Subject<number>();
  const out: [time: number, packet: number][] = [];
  let completedAt: number | undefined;
  let error: unknown;
  const subscription = source.pipe(pacePackets<number>({ realtime: true, scheduler, ...options })).subscribe({
    next: (p) => out.push([scheduler.now(), p]),
    complete: () => (completedAt = scheduler.now()),
    error: (e: unknown) => (error = e),
  });
  return { source, out, subscription, completed: () => completedAt, error: () => error };
}

/** A clock whose timers all fire `lateness` ms late, as on a busy event loop. */
class LateScheduler implements SchedulerLike {
  private time = 0;
  private tasks: { at: number; run: () => void; seq: number }[] = [];
  private seq = 0;

  constructor(private readonly lateness: number) {}

  now(): number {
    return this.time;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const task = { at: this.time + delay + this.lateness, run: () => work.call({} as SchedulerAction<T>, state), seq: this.seq++ };
    this.tasks.push(task);
    return new Subscription(() => (this.tasks = this.tasks.filter((t) => t !== task)));
  }

  /** Runs timers in time order up to `until`. */
  advance(until: number): void {
    for (;;) {
      this.tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.tasks[0];
      if (!next || next.at > until) break;
      this.tasks.shift();
      this.time = next.at;
      next.run();
    }
    this.time = until;
  }
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('pacePackets', () => {
  it('passes packets straight through by default', () => {
    const source = new Subject<number>();
    const out: number[] = [];
    source.pipe(pacePackets<number>()).subscribe((p) => out.push(p));
    range(5).forEach((p) => source.next(p));
    expect(out).toEqual(range(5)); // synchronously, with no clock involved
  });

  it('runs on the real clock by default, in order, to completion', async () => {
    const out = await lastValueFrom(from(range(6)).pipe(pacePackets<number>({ realtime: true, packetMs: 1, leadMs: 0 }), toArray()));
    expect(out).toEqual(range(6));
  });

  it('releases at 20 ms per packet after a 60 ms lead', () => {
    const scheduler = new VirtualTimeScheduler();
    const h = harness(scheduler);
    range(10).forEach((p) => h.source.next(p));
    h.source.complete();
    scheduler.flush();
    expect(h.out).toEqual(range(10).map((p) => [Math.max(0, p * 20 - 60), p]));
    expect(h.completed()).toBe(120);
  });

  it('honours packetMs and leadMs', () => {
    const scheduler = new VirtualTimeScheduler();
    const h = harness(scheduler, { packetMs: 10, leadMs: 0 });
    range(4).forEach((p) => h.source.next(p));
    scheduler.flush();
    expect(h.out.map(([t]) => t)).toEqual([0, 10, 20, 30]);
  });

  it('does not drift when every timer fires late', () => {
    const scheduler = new LateScheduler(7);
    const h = harness(scheduler);
    range(200).forEach((p) => h.source.next(p));
    scheduler.advance(10_000);
    expect(h.out).toHaveLength(200);
    // Each release is at most one timer's lateness behind its slot; lateness never accumulates.
    for (const [time, p] of h.out) {
      const due = Math.max(0, p * 20 - 60);
      expect(time).toBeGreaterThanOrEqual(due);
      expect(time).toBeLessThanOrEqual(due + 7);
    }
    expect(h.out.at(-1)?.[0]).toBe(199 * 20 - 60 + 7);
  });

  it('keeps the timeline when a packet arrives late but before its play time', () => {
    const scheduler = new VirtualTimeScheduler();
    const h = harness(scheduler);
    scheduler.schedule(() => range(4).forEach((p) => h.source.next(p)), 0);
    scheduler.schedule(() => range(4, 4).forEach((p) => h.source.next(p)), 70);
    scheduler.flush();
    expect(h.out).toEqual([[0, 0], [0, 1], [0, 2], [0, 3], [70, 4], [70, 5], [70, 6], [80, 7]]);
  });

  it('restarts the timeline, with a fresh lead, after the producer falls behind', () => {
    const scheduler = new VirtualTimeScheduler();
    const h = harness(scheduler);
    scheduler.schedule(() => range(5).forEach((p) => h.source.next(p)), 0);
    scheduler.schedule(() => range(5, 5).forEach((p) => h.source.next(p)), 500);
    scheduler.flush();
    expect(h.out.map(([t]) => t)).toEqual([0, 0, 0, 0, 20, 500, 500, 500, 500, 520]);
  });

  it('passes an error on at once and stops its timers on unsubscribe', () => {
    const scheduler = new VirtualTimeScheduler();
    const failing = harness(scheduler);
    range(10).forEach((p) => failing.source.next(p));
    failing.source.error(new Error('synthesis failed'));
    scheduler.flush();
    expect((failing.error() as Error).message).toBe('synthesis failed');
    expect(failing.out).toHaveLength(4); // the lead, released before the error

    const cancelled = harness(scheduler);
    range(10).forEach((p) => cancelled.source.next(p));
    cancelled.subscription.unsubscribe();
    scheduler.flush();
    expect(cancelled.out).toHaveLength(4);
    expect(cancelled.completed()).toBeUndefined();
  });

  it('rejects nonsense settings', () => {
    expect(() => pacePackets({ realtime: true, packetMs: 0 })).toThrow(RangeError);
    expect(() => pacePackets({ realtime: true, leadMs: -1 })).toThrow(RangeError);
  });
});
