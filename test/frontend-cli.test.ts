import { describe, expect, it } from 'vitest';
import { phonemize, SYMBOLS } from '../src/pipeline/frontend/index.js';
import { emomixText } from './clients-harness.js';

const cli = (args: string[], input = '') => emomixText(['phonemize', ...args], input);

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
