import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { phonemize, SYMBOLS } from '../src/pipeline/frontend/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs the CLI from source (a built dist/ could be stale), feeding `input` on stdin. */
function cli(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'phonemize', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('emomix phonemize', () => {
  it('--jsonl writes one record per input line, in order, blank lines included', async () => {
    const lines = ['Hello, world!', '', 'Is it 10am?', '   ', 'Dr. Smith paid $3.50 on 3/5/2024.'];
    const { code, stdout } = await cli(['--jsonl'], `${lines.join('\n')}\r\n`);
    expect(code).toBe(0);
    const records = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.text)).toEqual(lines);
    records.forEach((r, i) => expect({ ids: r.ids, symbols: r.symbols, words: r.words }).toEqual(phonemize(lines[i]!)));
    expect(records[1].ids).toEqual([]);
    expect(records[2].symbols.at(-1)).toBe('?');
  });

  it('--jsonl keeps every line of a larger batch', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `Line ${i + 1} of the batch, costing $${i}.`);
    const { code, stdout } = await cli(['--jsonl'], lines.join('\n'));
    expect(code).toBe(0);
    const records = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(2000);
    expect(records[1999].text).toBe(lines[1999]);
  });

  it('phonemizes its arguments', async () => {
    const { code, stdout } = await cli(['Good', 'morning!']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ text: 'Good morning!', ...phonemize('Good morning!') });
  });

  it('--symbols prints the symbol table', async () => {
    const { code, stdout } = await cli(['--symbols']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([...SYMBOLS]);
  });

  it('--help exits 0; an unknown option exits 2', async () => {
    expect((await cli(['--help'])).stdout).toContain('--jsonl');
    const bad = await cli(['--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --nope');
  });
});
