// Work on audio that grows with its length runs on the server's event loop in slices
// of a few ms, awaiting this between them so that sockets and other sessions get a turn.
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Consecutive views of `samples`, `size` samples each (the last may be shorter). */
export function* slices(samples: Float32Array, size: number): Generator<Float32Array> {
  for (let i = 0; i < samples.length; i += size) yield samples.subarray(i, i + size);
}
