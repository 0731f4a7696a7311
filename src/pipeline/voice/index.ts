export { VoiceError, type VoiceErrorCode } from './errors.js';
export { GRAPH_NAMES, parseManifest, type GraphName, type MelConfig, type DiffusionConfig, type VoiceEmotion, type VoiceManifest } from './manifest.js';
export { checkGraphSignature, type GraphSignature, type GraphValueInfo } from './graphs.js';
export { checkSymbols, loadVoice, type LoadedVoice } from './load.js';
