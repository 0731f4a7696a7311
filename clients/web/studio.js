// The studio page: wires the controls to takes, and runs the live view
// (word highlighting, chart, meters) on animation frames.
import { MixChart } from './chart.js';
import { colorOf, describe, weightsFrom } from './mix.js';
import { opusSupported, Player } from './player.js';
import { Take } from './take.js';
import { Transcript } from './transcript.js';
import { clipToWav } from './wav.js';

/** @param {string} id */
const $ = (id) => /** @type {any} */ (document.getElementById(id));

const ui = {
  status: $('status'),
  text: $('text'),
  rate: $('rate'),
  rateValue: $('rate-value'),
  voice: $('voice'),
  speaker: $('speaker'),
  steps: $('steps'),
  markup: $('markup'),
  play: $('play'),
  flush: $('flush'),
  cancel: $('cancel'),
  url: $('url'),
  token: $('token'),
  sliders: $('sliders'),
  intensity: $('intensity'),
  intensityValue: $('intensity-value'),
  ramp: $('ramp'),
  rampValue: $('ramp-value'),
  mixNow: $('mix-now'),
  reference: $('reference'),
  refFile: $('ref-file'),
  refName: $('ref-name'),
  first: $('m-first'),
  buffer: $('m-buffer'),
  gaps: $('m-gaps'),
  rtf: $('m-rtf'),
  codec: $('m-codec'),
};

const page = new URLSearchParams(location.search);
const player = new Player();
const transcript = new Transcript($('phrases'));
const chart = new MixChart($('chart'), $('legend'));
/** Custom emotions this page has registered: name → WAV. @type {Map<string, Uint8Array>} */
const references = new Map();
/** Clips sent and not yet confirmed by `emotionAdded`. @type {Map<string, Uint8Array>} */
const awaiting = new Map();
/** @type {{ id: string, name?: string, emotions: string[], neutral: string, speakers?: { id: string, name: string, emotions: string[] }[] }[]} */
let voices = [];
/** @type {Take | undefined} */
let take;
let errors = 0;
let lastMix = '';

// Counters for tests and for curious users (window.studio.stats in the console).
Object.assign(window, {
  studio: {
    get stats() {
      return { ...player.stats, wordsHeard: transcript.wordsHeard, playing: player.playing, taking: take !== undefined, errors };
    },
  },
});

/** @param {string} message */
function status(message) {
  ui.status.textContent = message;
  ui.status.classList.remove('error');
}

/** @param {string} message */
function fail(message) {
  errors++;
  ui.status.textContent = message;
  ui.status.classList.add('error');
}

const ownServer = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/stream`;
ui.url.value = page.get('url') ?? ownServer;

/** Hosts the user agreed to talk to; the server that served this page needs no agreement. */
const confirmedHosts = new Set([location.host]);

/**
 * The server to talk to: the address under “Server” when it is this page's own server or
 * the user confirms it, otherwise this page's own. A link such as `/?url=ws://elsewhere`
 * must not send the token (nor the text) to another host unasked.
 */
function serverUrl() {
  let host;
  try {
    host = new URL(ui.url.value).host;
  } catch {
    host = undefined;
  }
  if (host !== undefined && !confirmedHosts.has(host)) {
    const agreed = window.confirm(`Talk to ${host}? This page was served by ${location.host}; your text${ui.token.value ? ' and token' : ''} would go to ${host}.`);
    if (agreed) confirmedHosts.add(host);
    else host = undefined;
  }
  if (host === undefined) {
    ui.url.value = ownServer;
    status(`Using this page's own server, ${location.host}.`);
  }
  return ui.url.value;
}
ui.token.value = page.get('token') ?? '';

function currentVoice() {
  return voices.find((v) => v.id === ui.voice.value) ?? voices[0];
}

/** @returns {Record<string, number>} */
function currentWeights() {
  /** @type {Record<string, number>} */
  const sliders = {};
  for (const input of ui.sliders.querySelectorAll('input')) sliders[input.dataset.emotion] = Number(input.value) / 100;
  return weightsFrom(sliders, Number(ui.intensity.value) / 100, currentVoice()?.neutral ?? 'neutral');
}

/** @param {string} name */
function addSlider(name) {
  if (ui.sliders.querySelector(`[data-emotion="${CSS.escape(name)}"]`)) return;
  const row = document.createElement('div');
  row.className = 'control';
  const id = `emotion-${name}`;
  const label = document.createElement('label');
  label.htmlFor = id;
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = colorOf(name);
  label.append(swatch, name);
  const input = document.createElement('input');
  Object.assign(input, { type: 'range', id, min: '0', max: '100', value: '0' });
  input.dataset.emotion = name;
  const output = document.createElement('output');
  output.htmlFor = id;
  output.textContent = '0';
  input.addEventListener('input', () => {
    output.textContent = input.value;
    mixChanged();
  });
  row.append(label, input, output);
  ui.sliders.append(row);
}

/** The speaker picker lists the voice's speakers; a one-speaker voice leaves it disabled. */
function buildSpeakers() {
  const speakers = currentVoice()?.speakers ?? [];
  ui.speaker.replaceChildren(...speakers.map((s) => new Option(s.name === s.id ? s.id : `${s.name} (${s.id})`, s.id)));
  ui.speaker.disabled = speakers.length < 2;
}

/** `speaker` for `start`: only for a voice with several, so one-speaker voices start as before. */
function chosenSpeaker() {
  return (currentVoice()?.speakers?.length ?? 0) > 1 ? { speaker: ui.speaker.value } : {};
}

function voiceChanged() {
  buildSpeakers();
  buildSliders();
}

function buildSliders() {
  ui.sliders.replaceChildren();
  for (const name of [...(currentVoice()?.emotions ?? []), ...references.keys()]) addSlider(name);
  mixChanged();
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let mixTimer;
let mixSentAt = -Infinity;
const MIX_INTERVAL_MS = 120;

// Slider drags fire many events; the server needs the latest mix only, a few times a second.
function mixChanged() {
  ui.mixNow.textContent = describe(currentWeights());
  clearTimeout(mixTimer);
  mixTimer = setTimeout(sendMix, Math.max(0, mixSentAt + MIX_INTERVAL_MS - performance.now()));
}

function sendMix() {
  const weights = currentWeights();
  const key = JSON.stringify(weights);
  if (take && key !== lastMix) {
    take.emotion(weights, Number(ui.ramp.value));
    mixSentAt = performance.now();
  }
  lastMix = key;
}

async function loadVoices() {
  const base = new URL(serverUrl().replace(/^ws/, 'http'));
  const response = await fetch(new URL('/v1/voices', base), { headers: ui.token.value ? { authorization: `Bearer ${ui.token.value}` } : {} });
  if (response.status === 401) return fail('This server needs a token: enter it under “Server”.');
  if (!response.ok) return fail(`Cannot list voices: HTTP ${response.status}`);
  const body = await response.json();
  voices = body.voices;
  ui.voice.replaceChildren(...voices.map((v) => new Option(v.name ? `${v.name} (${v.id})` : v.id, v.id, v.id === body.default, v.id === body.default)));
  voiceChanged();
  status('Ready.');
}

/**
 * @param {string} text
 * @param {Map<string, Uint8Array>} clips the custom emotions to register first
 */
function makeTake(text, clips = references) {
  const steps = Number(ui.steps.value);
  return new Take({
    url: serverUrl(),
    token: ui.token.value,
    start: { voice: ui.voice.value, ...chosenSpeaker(), ...(steps > 0 ? { steps } : {}), format: ui.codec.dataset.format, markup: ui.markup.checked },
    text,
    mode: document.querySelector('input[name="mode"]:checked')?.getAttribute('value') === 'whole' ? 'whole' : 'stream',
    rate: () => Number(ui.rate.value),
    weights: currentWeights,
    references: clips,
    player,
    transcript,
    chart,
    events: {
      status,
      error: fail,
      emotionAdded: (name) => {
        const clip = awaiting.get(name);
        if (clip) references.set(name, clip);
        awaiting.delete(name);
        addSlider(name);
        status(`Added the emotion “${name}”.`);
      },
      firstAudio: (ms) => (ui.first.textContent = `${Math.round(ms)} ms`),
      done: (stats) => (ui.rtf.textContent = stats.realTimeFactor.toFixed(3)),
    },
  });
}

/**
 * @param {Take} next
 * @param {() => Promise<void>} [before] called at once, still inside the user's gesture
 */
async function runTake(next, before) {
  take = next;
  lastMix = JSON.stringify(currentWeights());
  try {
    await before?.();
    await next.run();
  } catch (error) {
    fail(/** @type {Error} */ (error).message);
  } finally {
    take = undefined;
  }
}

async function play() {
  if (take) return;
  const text = ui.text.value.trim();
  if (!text) return fail('Type something to speak first.');
  ui.first.textContent = '…';
  ui.rtf.textContent = '—';
  await runTake(makeTake(text), () => player.unlock());
}

function cancel() {
  if (take) take.cancel();
  else player.stop();
}

async function addReference(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  const file = ui.refFile.files?.[0];
  const name = ui.refName.value;
  if (!file) return;
  let wav;
  try {
    wav = await clipToWav(file);
  } catch {
    return fail(`Cannot decode ${file.name} as audio.`);
  }
  status(`Adding the emotion “${name}”…`);
  awaiting.set(name, wav);
  if (take) {
    await take.addReference(name, wav).catch((/** @type {Error} */ error) => fail(`The emotion “${name}” was not added: ${error.message}`));
  } else {
    // Between takes, a session of its own checks the clip; later takes register it again.
    await runTake(makeTake('', new Map([[name, wav]])));
  }
  awaiting.delete(name);
}

ui.play.addEventListener('click', play);
ui.flush.addEventListener('click', () => take?.flush());
ui.cancel.addEventListener('click', cancel);
ui.text.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    play();
  }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') cancel();
});
ui.rate.addEventListener('input', () => (ui.rateValue.textContent = `${ui.rate.value} /s`));
ui.intensity.addEventListener('input', () => {
  ui.intensityValue.textContent = `${ui.intensity.value}%`;
  mixChanged();
});
ui.ramp.addEventListener('input', () => (ui.rampValue.textContent = `${ui.ramp.value} ms`));
ui.voice.addEventListener('change', voiceChanged);
const reloadVoices = () => loadVoices().catch((/** @type {Error} */ e) => fail(`Cannot list voices: ${e.message}`));
ui.url.addEventListener('change', reloadVoices);
ui.token.addEventListener('change', reloadVoices);
$('server').addEventListener('submit', (/** @type {SubmitEvent} */ e) => {
  e.preventDefault();
  reloadVoices();
});
ui.refFile.addEventListener('change', () => {
  const file = ui.refFile.files?.[0];
  if (file && !ui.refName.value) ui.refName.value = file.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64);
});
ui.reference.addEventListener('submit', addReference);

function tick() {
  const heard = player.heardMs();
  transcript.update(heard);
  chart.setHeard(heard);
  chart.draw();
  ui.buffer.textContent = `${Math.round(player.bufferedS * 1000)} ms`;
  ui.gaps.textContent = String(player.stats.gaps);
  ui.play.disabled = take !== undefined;
  ui.flush.disabled = !take?.sending;
  ui.cancel.disabled = !take && !player.playing;
  requestAnimationFrame(tick);
}

player.onerror = (error) => fail(`Audio decoding failed: ${error.message}`);
const forced = page.get('format');
const format = forced === 'pcm16' || !(await opusSupported()) ? 'pcm16' : 'opus';
ui.codec.dataset.format = format;
ui.codec.textContent = format === 'opus' ? 'Opus (WebCodecs)' : 'PCM (no WebCodecs)';
requestAnimationFrame(tick);
reloadVoices();
