// emomix for LiveKit Agents: a `tts.TTS` that streams emotional speech from an
// emomix server over its WebSocket protocol.
export { ChunkedStream, SynthesizeStream, TTS, type TTSOptions } from './tts.js';
export { MOOD_EMOTIONS, UNMATCHED_LABELS, expressionMix, type AgentMood } from './emotions.js';
export type { Phrase, SpeechOutcome } from './speech.js';
export type { SpokenWord, Weights } from './protocol.js';
