export { Engine, type EngineOptions, type SynthesisResult, type SynthesisTimings } from './engine.js';
export { MAX_STEPS, type SynthesisRequest } from './request.js';
export { SynthesisError, type SynthesisErrorCode } from './errors.js';
export type { Schedule } from './step-mix.js';
export type { WordTiming } from './durations.js';
export type { Device, GraphOptimization } from './worker-protocol.js';
export type { Logger } from './worker-pool.js';
