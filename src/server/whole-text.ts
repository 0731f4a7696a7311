// A text that arrives whole (POST /v1/speech, POST /v1/audio/speech), spoken
// phrase by phrase with the same segmentation and synthesis as a stream; for
// /v1/speech joined without gaps into one audio file.
import { createPhraseSegmenter } from '../pipeline/segmenter.js';
import type { CheckedMix } from '../pipeline/synthesis/index.js';
import { floatToMulaw } from '../stream/mulaw.js';
import { writeOggOpus } from '../stream/ogg.js';
import { nextTurn } from '../stream/next-turn.js';
import { encodeInTurns, opusInputRate, type OpusEncoderPool } from '../stream/opus.js';
import { floatToPcm16LE } from '../stream/pcm.js';
import { writeWav } from '../stream/wav.js';
import { changeForTag, EmotionTimeline, type EmotionChange } from './emotion-timeline.js';
import { MULAW_SAMPLE_RATE, ErrorCode, ProtocolError, OUTPUT_SAMPLE_RATE } from '../protocol/index.js';
import { MarkupReader } from './markup.js';
import { PhraseCutter, type CutPhrase } from './phrase-cutter.js';
import { phraseMs, renderPhrase, type PhraseAudio } from './render.js';
import { phraseRequest, type SpeechSettings } from './speech-settings.js';
import { ExpectedAudio } from './expected-audio.js';
import { PhraseOrder, PHRASES_IN_PARALLEL } from './phrase-order.js';
import type { ServedVoice } from './voices.js';

export interface SpeechText {
  text: string;
  /** Read emotion tags in `text`. Default false. */
  markup?: boolean;
  /** Audio the request may produce, in seconds; past it the request fails with audio_too_long. */
  maxAudioSeconds: number;
  /** How much later than at once the first phrase is due (a listener who hears nothing yet; PlayClock). */
  firstAudioGraceMs: number;
}

export interface SpeechFileRequest extends SpeechText {
  format: 'ogg' | 'wav' | 'pcm' | 'mulaw';
  /** wav and pcm: the file's rate (48 kHz by default); mulaw is 8 kHz. */
  sampleRate?: number | undefined;
}

export interface SpeechFile {
  body: Uint8Array;
  contentType: string;
  phrases: number;
  audioMs: number;
  synthesisMs: number;
}

const CUT_SLICE_CHARS = 1024;

/**
 * The phrases of a whole text, in order as the caller asks for them, synthesized up to
 * PHRASES_IN_PARALLEL at once. The text has arrived whole, so it is cut at sentence ends (and
 * the other text-only rules), never early: an early first phrase would only put a phrase-final
 * fall in the middle of a sentence. The phrases come at `sampleRate`, the rate their consumer takes.
 */
export async function* renderText(settings: SpeechSettings, request: SpeechText, signal: AbortSignal, sampleRate: number): AsyncGenerator<PhraseAudio> {
  const { voice } = settings;
  const phrases = await cutWithMarkup(voice, request.text, request.markup ?? false, settings.base);
  const timeline = new EmotionTimeline(settings.base);
  const order = new PhraseOrder(timeline);
  // Each phrase is wanted when a listener who starts playing the first-audio grace after the
  // request would reach it: the first then, the rest as the audio before them would have played.
  // Under load the engine serves earliest deadlines first, so a long request yields to real-time sessions
  // (a 16,380-character request at speed 0.25 stalled one for 0.9 s with all its calls due now).
  const listenerStart = performance.now() + request.firstAudioGraceMs;
  /** End of the phrases placed so far. */
  let endMs = 0;
  const expected = new ExpectedAudio();
  /** The phrase the caller waits for; those after it are synthesized ahead. */
  let waitedFor = 0;
  // Leaving early (an error, the caller gone) stops the phrases synthesized ahead.
  const stop = new AbortController();
  const stopped = AbortSignal.any([signal, stop.signal]);
  const synthesize = async (i: number): Promise<{ rendered: PhraseAudio; endMs: number }> => {
    const { text, marks } = phrases[i]!;
    const turn = order.next(marks);
    const phrase = expected.begin(text.length);
    try {
      const start = await turn.start(() => endMs);
      const when = { deadline: listenerStart + endMs + phrase.afterMs, signal: stopped };
      const rendered = await renderPhrase(voice, text, marks, start, phraseRequest(settings, i + 1, when), sampleRate);
      await turn.placeable;
      timeline.advance(endMs, rendered.course);
      const ms = phraseMs(rendered);
      endMs += ms;
      phrase.placed(ms);
      return { rendered, endMs };
    } finally {
      phrase.release();
      turn.placed();
    }
  };
  const tasks: Promise<{ rendered: PhraseAudio; endMs: number }>[] = [];
  // Silent phrases before the first that speaks wait, so that a text with nothing to say
  // is an error (nothing_to_say) before any response is under way, not an empty file.
  const silentFirst: PhraseAudio[] = [];
  try {
    for (waitedFor = 0; waitedFor < phrases.length; waitedFor++) {
      while (tasks.length < Math.min(phrases.length, waitedFor + PHRASES_IN_PARALLEL)) {
        const task = synthesize(tasks.length);
        // Awaited in its turn; a failure meanwhile must not count as unhandled.
        task.catch(() => {});
        tasks.push(task);
      }
      const { rendered, endMs: phraseEndMs } = await tasks[waitedFor]!;
      // Checked phrase by phrase: what a text reads as is known only once it is synthesized,
      // and a phrase is at most 30 spoken words.
      if (phraseEndMs > request.maxAudioSeconds * 1000) {
        throw new ProtocolError(ErrorCode.audioTooLong, `text: it reads as more than the ${request.maxAudioSeconds} s of audio a request may produce; send it in parts`, 'text');
      }
      if (phraseEndMs === 0) {
        silentFirst.push(rendered);
        continue;
      }
      yield* silentFirst.splice(0);
      yield rendered;
    }
  } finally {
    stop.abort();
  }
  if (endMs === 0) throw new ProtocolError(ErrorCode.nothingToSay, 'text: nothing in it can be pronounced by this voice (another script, or symbols only)', 'text');
}

/** The rate a file of `request`'s format is written at, for a voice speaking at `voiceRate`. */
function fileRate(request: SpeechFileRequest, voiceRate: number): number {
  if (request.format === 'mulaw') return MULAW_SAMPLE_RATE;
  if (request.format === 'ogg') return opusInputRate(voiceRate);
  return request.sampleRate ?? OUTPUT_SAMPLE_RATE;
}

export async function synthesizeFile(settings: SpeechSettings, request: SpeechFileRequest, encoders: OpusEncoderPool, signal: AbortSignal): Promise<SpeechFile> {
  const rate = fileRate(request, settings.voice.info.sampleRate);
  const parts: Float32Array[] = [];
  let synthesisMs = 0;
  for await (const rendered of renderText(settings, request, signal, rate)) {
    parts.push(rendered.pcm);
    synthesisMs += rendered.synthesisMs;
  }
  const pcm = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (pcm.set(p, offset), offset + p.length), 0);
  const audioMs = (pcm.length * 1000) / rate;
  const file = { phrases: parts.length, audioMs, synthesisMs };
  if (request.format === 'mulaw') return { ...file, body: floatToMulaw(pcm), contentType: 'audio/basic' };
  if (request.format === 'wav') return { ...file, body: writeWav(pcm, rate), contentType: 'audio/wav' };
  if (request.format === 'pcm') return { ...file, body: floatToPcm16LE(pcm), contentType: `audio/pcm;rate=${rate};encoding=s16le;channels=1` };
  const encoder = encoders.take(opusInputRate(rate));
  // A file needs at least one packet, even for text with nothing to pronounce.
  const packets = [...(await encodeInTurns(encoder, pcm.length > 0 ? pcm : new Float32Array(1))), ...encoder.flush()];
  const { preSkip, sampleCount } = encoder;
  encoders.give(encoder);
  const body = await writeOggOpus(packets, { preSkip, sampleCount, inputSampleRate: settings.voice.info.sampleRate });
  return { ...file, body, contentType: 'audio/ogg' };
}

/** The request's phrases with their emotion changes; a bad tag refuses the whole request (bad_markup). */
async function cutWithMarkup(voice: ServedVoice, text: string, markup: boolean, base: CheckedMix): Promise<CutPhrase<EmotionChange>[]> {
  const reader = new MarkupReader<EmotionChange>(markup);
  // The whole text has arrived: an early first phrase would only put a phrase-final fall mid-sentence.
  const cutter = new PhraseCutter<EmotionChange>(createPhraseSegmenter({ earlyFirstPhrase: false }));
  const known = { neutral: voice.info.neutral, known: voice.info.emotions, base };
  const phrases: CutPhrase<EmotionChange>[] = [];
  for (const item of [...reader.feed(text), ...reader.end()]) {
    // Reading 16,384 characters takes tens of ms of CPU (300-400 ms on a busy machine): the
    // text is cut a slice at a time, other sessions served in between. Cuts do not depend on
    // how the text is sliced.
    if (item.kind === 'text') {
      for (let i = 0; i < item.text.length; i += CUT_SLICE_CHARS) {
        if (i > 0) await nextTurn();
        phrases.push(...cutter.push(item.text.slice(i, i + CUT_SLICE_CHARS)));
      }
    } else if (item.kind === 'mark') cutter.mark(item.mark);
    else {
      const change = item.kind === 'tag' ? changeForTag(item.tag, known) : item.reason;
      if (typeof change === 'string') throw new ProtocolError(ErrorCode.badMarkup, `text: bad emotion tag ${JSON.stringify(item.source.slice(0, 64))}: ${change}`, 'text');
      cutter.mark(change);
    }
  }
  return [...phrases, ...cutter.flush()];
}
