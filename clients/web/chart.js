// The emotion mix over the session timeline as a stacked area chart: what
// each phrase was synthesized with, ramps included, and a line where playback
// is. The canvas's label and the legend say the same in words.
import { colorOf, describe, mixAt } from './mix.js';

const MIN_SPAN_MS = 5000;
const COLUMN_PX = 2;
const FRAME_MS = 20;

/** @typedef {{ id: number, startMs: number, durationMs: number, emotion: Record<string, number>, ramp?: { to: Record<string, number>, startMs: number, endMs: number }, segments?: { startMs: number, emotion: Record<string, number>, ramp?: { to: Record<string, number>, startMs: number, endMs: number } }[] }} ChartPhrase */

export class MixChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {HTMLElement} legend
   */
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.legend = legend;
    /** @type {ChartPhrase[]} */
    this.phrases = [];
    /** @type {string[]} */
    this.names = [];
    /** @type {number | null} */
    this.heardMs = null;
    this.dirty = true;
    new ResizeObserver(() => (this.dirty = true)).observe(canvas);
  }

  reset() {
    this.phrases = [];
    this.names = [];
    this.heardMs = null;
    this.legend.replaceChildren();
    this.canvas.setAttribute('aria-label', 'Emotion mix over time: nothing spoken yet');
    this.dirty = true;
  }

  /** @param {ChartPhrase} phrase */
  add(phrase) {
    this.phrases.push(phrase);
    const mixes = [phrase, ...(phrase.segments ?? [])].flatMap((m) => [m.emotion, m.ramp?.to ?? {}]);
    for (const name of mixes.flatMap((mix) => Object.keys(mix))) {
      if (this.names.includes(name)) continue;
      this.names.push(name);
      const entry = document.createElement('span');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colorOf(name);
      entry.append(swatch, name);
      this.legend.append(entry);
    }
    const ending = (/** @type {ChartPhrase} */ p) => {
      const last = p.segments && p.segments.length > 1 ? p.segments[p.segments.length - 1] : p;
      return last.ramp || last !== p ? ` moving to ${describe(last.ramp ? last.ramp.to : last.emotion)}` : '';
    };
    const recent = this.phrases.slice(-4).map((p) => `phrase ${p.id}: ${describe(p.emotion)}${ending(p)}`);
    this.canvas.setAttribute('aria-label', `Emotion mix over time. ${recent.join('; ')}`);
    this.dirty = true;
  }

  /** @param {number | null} ms */
  setHeard(ms) {
    if (ms === this.heardMs) return;
    this.heardMs = ms;
    this.dirty = true;
  }

  /** Where phrase `i` ends on the chart: the next one's start when only frame padding lies between. @param {number} i */
  endOf(i) {
    const phrase = this.phrases[i];
    const end = phrase.startMs + phrase.durationMs;
    const next = this.phrases[i + 1];
    return next && next.startMs >= end && next.startMs - end < FRAME_MS ? next.startMs : end;
  }

  draw() {
    if (!this.dirty) return;
    this.dirty = false;
    const { canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const last = this.phrases.at(-1);
    const spanMs = Math.max(MIN_SPAN_MS, last ? last.startMs + last.durationMs : 0, this.heardMs ?? 0);
    const msPerPx = spanMs / width;
    const plot = height - 16;

    let index = 0;
    for (let x = 0; x < width; x += COLUMN_PX) {
      const t = x * msPerPx;
      while (index < this.phrases.length - 1 && this.endOf(index) <= t) index++;
      const phrase = this.phrases[index];
      if (!phrase || t < phrase.startMs || t >= this.endOf(index)) continue;
      const mix = mixAt(phrase, t);
      const total = Object.values(mix).reduce((s, v) => s + v, 0) || 1;
      let y = plot;
      for (const name of this.names) {
        const h = ((mix[name] ?? 0) / total) * plot;
        g.fillStyle = colorOf(name);
        g.fillRect(x, y - h, COLUMN_PX, h);
        y -= h;
      }
    }

    const ink = getComputedStyle(canvas).color;
    g.fillStyle = ink;
    g.font = '11px system-ui, sans-serif';
    const step = spanMs > 20_000 ? 5000 : 1000;
    for (let ms = 0; ms <= spanMs; ms += step) g.fillText(`${ms / 1000} s`, ms / msPerPx + 2, height - 3);
    if (this.heardMs !== null) {
      g.fillRect(Math.round(this.heardMs / msPerPx), 0, 2, plot);
    }
  }
}
