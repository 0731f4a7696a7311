/**
 * Real-time pacing of audio packets.
 *
 * Packet k of a stream is released no earlier than start + k·packetMs − leadMs,
 * where start is when the first packet arrived: release times are computed
 * from the packet count, not from the previous release, so timer lateness
 * never accumulates (drift-free), and the first leadMs of audio goes out at
 * once to fill the client's jitter buffer. When the producer falls behind so
 * far that a packet arrives after its play time (start + k·packetMs) the
 * client has run dry; the timeline restarts from that packet, which again
 * goes out with a lead.
 */
import { Observable, asyncScheduler, identity, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { performance } from 'node:perf_hooks';

export interface PacingOptions {
  /** Release at real time (true) or pass packets through as produced (false, the default). */
  realtime?: boolean;
  /** Audio duration of one packet (default 20 ms). */
  packetMs?: number;
  /** How far ahead of real time packets may be released (default 60 ms). */
  leadMs?: number;
  /** Clock (`now()`, in ms) and timers; default: a monotonic clock with setTimeout timers. */
  scheduler?: SchedulerLike;
}

export const DEFAULT_PACKET_MS = 20;
export const DEFAULT_LEAD_MS = 60;

// asyncScheduler's clock is Date.now, which jumps when the wall clock is adjusted.
const monotonicScheduler: SchedulerLike = {
  now: () => performance.now(),
  schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'],
};

/**
 * Paces a stream of packets (one packet = `packetMs` of audio). Completion
 * waits for the queued packets; an error is passed on at once, dropping them.
 */
export function pacePackets<T>(options: PacingOptions = {}): MonoTypeOperatorFunction<T> {
  if (!options.realtime) return identity;
  const packetMs = options.packetMs ?? DEFAULT_PACKET_MS;
  const leadMs = options.leadMs ?? DEFAULT_LEAD_MS;
  if (!(packetMs > 0) || !(leadMs >= 0)) throw new RangeError(`Invalid pacing: packetMs ${packetMs}, leadMs ${leadMs}`);
  const scheduler = options.scheduler ?? monotonicScheduler;

  return (source) =>
    new Observable<T>((subscriber) => {
      const queue: T[] = [];
      let start = 0;
      let released = 0;
      let sourceDone = false;
      let timer: Subscription | undefined;

      const drain = () => {
        timer = undefined;
        while (queue.length > 0) {
          const wait = start + released * packetMs - leadMs - scheduler.now();
          if (wait > 0) {
            timer = scheduler.schedule(drain, wait);
            return;
          }
          released++;
          subscriber.next(queue.shift() as T);
        }
        if (sourceDone) subscriber.complete();
      };

      const subscription = source.subscribe({
        next(packet) {
          queue.push(packet);
          if (queue.length > 1) return; // the head is waiting on its timer
          const now = scheduler.now();
          if (released === 0 || now > start + released * packetMs) start = now - released * packetMs;
          drain();
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          sourceDone = true;
          if (queue.length === 0) subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
