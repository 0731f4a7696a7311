// Reads a voice folder from disk and checks what can be checked without onnxruntime:
// the manifest, the front end's symbol table and the presence of the graph files.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SYMBOLS } from '../frontend/symbols.js';
import { VoiceError } from './errors.js';
import { GRAPH_NAMES, parseManifest, type GraphName, type VoiceManifest } from './manifest.js';

export interface LoadedVoice {
  dir: string;
  manifestFile: string;
  manifest: VoiceManifest;
  /** Absolute path of each graph file. */
  graphFiles: Record<GraphName, string>;
}

/** Throws VOICE_SYMBOLS_MISMATCH unless the voice was trained on exactly the front end's symbol table. */
export function checkSymbols(file: string, voiceSymbols: readonly string[], frontendSymbols: readonly string[]): void {
  const n = Math.max(voiceSymbols.length, frontendSymbols.length);
  for (let i = 0; i < n; i++) {
    if (voiceSymbols[i] !== frontendSymbols[i]) {
      throw new VoiceError(
        'VOICE_SYMBOLS_MISMATCH',
        file,
        `symbols[${i}]`,
        `is ${JSON.stringify(voiceSymbols[i])}, the front end has ${JSON.stringify(frontendSymbols[i])} ` +
          `(${voiceSymbols.length} symbols in the voice, ${frontendSymbols.length} in the front end)`,
      );
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function loadVoice(voiceDir: string): Promise<LoadedVoice> {
  const dir = resolve(voiceDir);
  const manifestFile = join(dir, 'voice.json');
  let text: string;
  try {
    text = await readFile(manifestFile, 'utf8');
  } catch (err) {
    throw new VoiceError('VOICE_FILE_MISSING', manifestFile, undefined, `cannot be read: ${(err as Error).message}`);
  }
  const manifest = parseManifest(text, manifestFile);
  checkSymbols(manifestFile, manifest.symbols, SYMBOLS);

  const graphFiles = {} as Record<GraphName, string>;
  for (const graph of GRAPH_NAMES) {
    const path = resolve(dir, manifest.files[graph]);
    if (!(await isFile(path))) {
      throw new VoiceError('VOICE_FILE_MISSING', manifestFile, `files.${graph}`, `names ${path}, which does not exist`);
    }
    graphFiles[graph] = path;
  }
  return { dir, manifestFile, manifest, graphFiles };
}
