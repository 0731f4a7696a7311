// The five graphs' inputs and outputs as the contract fixes them (CONTRACT.md,
// "Files and tensor names"), checked against what onnxruntime reports for a loaded
// session, so that a mis-exported voice fails at start-up rather than mid-request.
import { VoiceError } from './errors.js';
import { conditionDim, type GraphName, type VoiceManifest } from './manifest.js';

/** What a session reports about one input or output; plain data so it crosses threads. */
export interface GraphValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

export interface GraphSignature {
  inputs: GraphValueInfo[];
  outputs: GraphValueInfo[];
}

// A dimension is either free (dynamic batch or length) or fixed by the manifest. The
// acoustic graphs take the conditioning vector (emotion embedding, then speaker embedding).
type Dim = 'free' | 'nMels' | 'embeddingDim' | 'conditionDim';
interface ValueSpec {
  name: string;
  type: 'float32' | 'int64';
  dims: Dim[];
}

const SPECS: Record<GraphName, { inputs: ValueSpec[]; outputs: ValueSpec[] }> = {
  encoder: {
    inputs: [
      { name: 'phonemes', type: 'int64', dims: ['free', 'free'] },
      { name: 'phoneme_lengths', type: 'int64', dims: ['free'] },
      { name: 'emotion', type: 'float32', dims: ['free', 'conditionDim'] },
    ],
    outputs: [
      { name: 'mu', type: 'float32', dims: ['free', 'nMels', 'free'] },
      { name: 'log_durations', type: 'float32', dims: ['free', 'free'] },
    ],
  },
  decoder: {
    inputs: [
      { name: 'mu', type: 'float32', dims: ['free', 'nMels', 'free'] },
      { name: 'position', type: 'float32', dims: ['free', 'free', 'free'] },
      { name: 'mask', type: 'float32', dims: ['free', 'free', 'free'] },
      { name: 'emotion', type: 'float32', dims: ['free', 'conditionDim', 'free'] },
    ],
    outputs: [{ name: 'prior', type: 'float32', dims: ['free', 'nMels', 'free'] }],
  },
  estimator: {
    inputs: [
      { name: 'x', type: 'float32', dims: ['free', 'nMels', 'free'] },
      { name: 'mu', type: 'float32', dims: ['free', 'nMels', 'free'] },
      { name: 'mask', type: 'float32', dims: ['free', 'free', 'free'] },
      { name: 't', type: 'float32', dims: ['free'] },
      { name: 'emotion', type: 'float32', dims: ['free', 'conditionDim'] },
    ],
    outputs: [{ name: 'score', type: 'float32', dims: ['free', 'nMels', 'free'] }],
  },
  vocoder: {
    inputs: [{ name: 'mel', type: 'float32', dims: ['free', 'nMels', 'free'] }],
    outputs: [{ name: 'audio', type: 'float32', dims: ['free', 'free'] }],
  },
  ser: {
    inputs: [{ name: 'mel', type: 'float32', dims: ['free', 'nMels', 'free'] }],
    outputs: [
      { name: 'embedding', type: 'float32', dims: ['free', 'embeddingDim'] },
      { name: 'logits', type: 'float32', dims: ['free', 'free'] },
    ],
  },
};

function checkValues(file: string, side: 'input' | 'output', specs: ValueSpec[], actual: GraphValueInfo[], manifest: VoiceManifest): void {
  const expected = specs.map((s) => s.name).sort();
  const got = actual.map((a) => a.name).sort();
  if (expected.join(',') !== got.join(',')) {
    throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, `${side}s`, `expected ${side}s [${expected.join(', ')}], the graph has [${got.join(', ')}]`);
  }
  for (const spec of specs) {
    const info = actual.find((a) => a.name === spec.name)!;
    const where = `${side} ${spec.name}`;
    if (!info.isTensor) throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, 'must be a tensor');
    if (info.type !== undefined && info.type !== spec.type) {
      throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, `must be ${spec.type}, the graph has ${info.type}`);
    }
    // An empty shape means the exporter left the shape unknown: nothing to check.
    if (!info.shape || info.shape.length === 0) continue;
    if (info.shape.length !== spec.dims.length) {
      throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, `must have rank ${spec.dims.length}, the graph has rank ${info.shape.length} [${info.shape.join(', ')}]`);
    }
    spec.dims.forEach((dim, axis) => {
      const size = info.shape![axis];
      if (dim === 'free' || typeof size !== 'number') return;
      if (size !== manifest.mel.nMels && dim === 'nMels') {
        throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, `axis ${axis} is ${size}, voice.json mel.nMels is ${manifest.mel.nMels}`);
      }
      if (size !== manifest.embeddingDim && dim === 'embeddingDim') {
        throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, `axis ${axis} is ${size}, voice.json embeddingDim is ${manifest.embeddingDim}`);
      }
      if (size !== conditionDim(manifest) && dim === 'conditionDim') {
        const fields = manifest.speakerDim ? 'embeddingDim + speakerDim' : 'embeddingDim';
        throw new VoiceError('VOICE_GRAPH_SIGNATURE', file, where, `axis ${axis} is ${size}, voice.json ${fields} is ${conditionDim(manifest)}`);
      }
    });
  }
}

/** Throws VOICE_GRAPH_SIGNATURE when a loaded graph does not have the contract's inputs and outputs. */
export function checkGraphSignature(graph: GraphName, file: string, signature: GraphSignature, manifest: VoiceManifest): void {
  const spec = SPECS[graph];
  checkValues(file, 'input', spec.inputs, signature.inputs, manifest);
  checkValues(file, 'output', spec.outputs, signature.outputs, manifest);
}
