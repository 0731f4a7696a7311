// The `emomix` entry point: --help describes every sub-command, --version
// prints package.json's version, an unknown command is a usage error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emomixText } from './clients-harness.js';

const emomix = (...args: string[]) => emomixText(args);

describe('emomix', () => {
  it('--help (and no arguments) lists every sub-command with what it does; each has its own --help', async () => {
    for (const args of [['--help'], []]) {
      const run = await emomix(...args);
      expect(run.code).toBe(0);
      for (const command of ['serve', 'say', 'stream', 'synth', 'phonemize']) expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S.{10,}$`, 'm'));
    }
    for (const command of ['serve', 'say', 'stream', 'synth', 'phonemize']) {
      const run = await emomix(command, '--help');
      expect({ command, code: run.code }).toEqual({ command, code: 0 });
      expect(run.stdout + run.stderr).toContain(`usage: emomix ${command}`);
    }
  }, 120_000);

  it("--version prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const run = await emomix('--version');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`emomix ${version}\n`);
  });

  it('an unknown command exits 2 naming it, with the usage', async () => {
    const run = await emomix('dance');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "dance"');
    expect(run.stderr).toContain('commands:');
  });
});
