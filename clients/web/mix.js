// Emotion mixes: from the sliders to the weights sent, and back to words and
// to the mix at a moment of a phrase (for the chart).

/**
 * The sliders give the direction of the mix, intensity how far it goes from
 * the voice's neutral emotion (0: neutral only, 1: the sliders' mix).
 * @param {Record<string, number>} sliders values from 0 to 1
 * @param {number} intensity from 0 to 1
 * @param {string} neutral
 * @returns {Record<string, number>} weights summing to 1
 */
export function weightsFrom(sliders, intensity, neutral) {
  const total = Object.values(sliders).reduce((sum, v) => sum + v, 0);
  if (total <= 0 || intensity <= 0) return { [neutral]: 1 };
  /** @type {Record<string, number>} */
  const weights = {};
  for (const [name, value] of Object.entries(sliders)) if (value > 0) weights[name] = (intensity * value) / total;
  if (intensity < 1) weights[neutral] = (weights[neutral] ?? 0) + 1 - intensity;
  return weights;
}

/** @param {Record<string, number>} weights */
export function describe(weights) {
  const total = Object.values(weights).reduce((sum, v) => sum + v, 0) || 1;
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, w]) => `${name} ${Math.round((100 * w) / total)}%`)
    .join(' · ');
}

/**
 * The mix at session time `ms` inside a phrase: the last of its segments that has
 * started, moving linearly from its mix to its ramp's target until the ramp ends
 * (docs/protocol.md, "Emotion"). Phrases without segments are one segment.
 * @param {{ startMs: number, emotion: Record<string, number>, ramp?: Ramp, segments?: { startMs: number, emotion: Record<string, number>, ramp?: Ramp }[] }} phrase
 * @param {number} ms
 * @returns {Record<string, number>}
 */
export function mixAt(phrase, ms) {
  const segments = phrase.segments?.length ? phrase.segments : [{ startMs: phrase.startMs, emotion: phrase.emotion, ramp: phrase.ramp }];
  let segment = segments[0];
  for (const s of segments) if (s.startMs <= ms) segment = s;
  const { ramp } = segment;
  if (!ramp || ramp.endMs <= segment.startMs) return segment.emotion;
  const t = Math.min(1, Math.max(0, (ms - segment.startMs) / (ramp.endMs - segment.startMs)));
  /** @type {Record<string, number>} */
  const out = {};
  for (const name of new Set([...Object.keys(segment.emotion), ...Object.keys(ramp.to)])) {
    out[name] = (segment.emotion[name] ?? 0) * (1 - t) + (ramp.to[name] ?? 0) * t;
  }
  return out;
}

/** @typedef {{ to: Record<string, number>, startMs: number, endMs: number }} Ramp */

/** The emotion weighing most in a mix. @param {Record<string, number>} weights */
export function dominant(weights) {
  return Object.entries(weights).reduce((best, entry) => (entry[1] > best[1] ? entry : best), ['', -1])[0];
}

const PALETTE = { neutral: '#8a8f98', happy: '#f2b705', sad: '#3b7dd8', angry: '#d93025', surprise: '#9c27b0' };
const EXTRA = ['#1e8e3e', '#e8710a', '#00897b', '#c2185b', '#5e35b1', '#6d4c41'];

/** A stable color per emotion name. @param {string} name */
export function colorOf(name) {
  if (Object.hasOwn(PALETTE, name)) return PALETTE[/** @type {keyof typeof PALETTE} */ (name)];
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  return EXTRA[hash % EXTRA.length];
}
