// The phrases of a take as a list: each phrase's words, highlighted as they
// are heard (from the word timestamps) and underlined in the colour of the
// emotion they are spoken with, its mixes, and its first-audio latency.
import { colorOf, describe, dominant } from './mix.js';

/** @typedef {{ phrase: number, startMs: number, endMs: number, el: HTMLElement }} Word */

export class Transcript {
  /** @param {HTMLOListElement} list */
  constructor(list) {
    this.list = list;
    /** Words not yet heard, in timeline order. @type {Word[]} */
    this.ahead = [];
    /** The word being heard. @type {Word | undefined} */
    this.current = undefined;
    /** @type {Map<number, HTMLLIElement>} */
    this.items = new Map();
    this.wordsHeard = 0;
  }

  reset() {
    this.list.replaceChildren();
    this.ahead = [];
    this.current = undefined;
    this.items.clear();
    this.wordsHeard = 0;
  }

  /** @param {{ id: number, text: string, startMs: number, durationMs: number, words: { word: string, startMs: number, endMs: number, emotion?: Record<string, number> }[], emotion: Record<string, number>, ramp?: { to: Record<string, number> }, segments?: { word: number, emotion: Record<string, number>, ramp?: { to: Record<string, number> } }[] }} phrase */
  add(phrase) {
    const item = document.createElement('li');
    const spoken = document.createElement('p');
    spoken.className = 'spoken';
    spoken.lang = 'en';
    for (const w of phrase.words) {
      const el = document.createElement('span');
      el.className = 'word';
      el.textContent = w.word;
      if (w.emotion) {
        el.style.setProperty('--emotion', colorOf(dominant(w.emotion)));
        el.dataset.emotion = dominant(w.emotion);
        el.title = describe(w.emotion);
      }
      spoken.append(el, ' ');
      this.ahead.push({ phrase: phrase.id, startMs: w.startMs, endMs: w.endMs, el });
    }
    if (phrase.words.length === 0) spoken.textContent = phrase.text;
    const meta = document.createElement('p');
    meta.className = 'meta';
    // Changes inside the phrase: where each starts and what it goes to.
    const changes = (phrase.segments ?? []).slice(1).map((s) => ` · from ${s.word < phrase.words.length ? `“${phrase.words[s.word].word}”` : 'the end'}: ${describe(s.ramp ? s.ramp.to : s.emotion)}`);
    const mix = describe(phrase.emotion) + (phrase.ramp ? ` → ${describe(phrase.ramp.to)}` : '') + changes.join('');
    meta.textContent = `“${phrase.text}” · ${(phrase.durationMs / 1000).toFixed(2)} s · ${mix}`;
    const latency = document.createElement('span');
    latency.className = 'latency';
    meta.append(latency);
    item.append(spoken, meta);
    this.list.append(item);
    this.items.set(phrase.id, item);
  }

  /**
   * @param {number} id
   * @param {number} ms from the moment the phrase could start (its text sent, the phrase before it out) to its first audio
   */
  latency(id, ms) {
    const el = this.items.get(id)?.querySelector('.latency');
    if (el) el.textContent = ` · first audio in ${Math.round(ms)} ms`;
  }

  /** Phrases cut short by a cancel: their words will not be heard. @param {number[]} ids */
  cancelled(ids) {
    for (const id of ids) this.items.get(id)?.classList.add('cut');
    this.ahead = this.ahead.filter((w) => !ids.includes(w.phrase));
  }

  /** @param {number | null} heardMs the session time being heard */
  update(heardMs) {
    if (heardMs === null) return;
    while (this.ahead.length > 0 && this.ahead[0].startMs <= heardMs) {
      const word = /** @type {Word} */ (this.ahead.shift());
      word.el.classList.add('heard');
      this.wordsHeard++;
      this.setCurrent(word);
    }
    if (this.current && heardMs >= this.current.endMs) this.setCurrent(undefined);
  }

  /** @param {Word | undefined} word */
  setCurrent(word) {
    this.current?.el.classList.remove('current');
    this.current = word;
    word?.el.classList.add('current');
  }
}
