// The install configuration: npm runs with no warning about the project's
// config, and onnxruntime-node's install script (which would download CUDA
// libraries) is skipped both by npm's allowScripts and by its own
// ONNXRUNTIME_NODE_INSTALL=skip, which scripts/test-all.sh exports for npms
// that run dependency scripts regardless.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('install configuration', () => {
  it('npm reads the project without an unknown-config warning', () => {
    const run = spawnSync('npm', ['pkg', 'get', 'name'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('"emomix-server"');
    expect(run.stderr).not.toMatch(/Unknown (project|user|builtin) config/);
  });

  it('denies onnxruntime-node its install script, and the script honours ONNXRUNTIME_NODE_INSTALL=skip', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
    expect(existsSync('.npmrc') ? readFileSync('.npmrc', 'utf8') : '').not.toContain('onnxruntime-node-install');
    const script = 'node_modules/onnxruntime-node/script/install.js';
    // With the flag the script exits before any network access; a changed flag name would make it try the NuGet feed.
    const out = execFileSync(process.execPath, [script], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, encoding: 'utf8', timeout: 20_000 });
    expect(out).toBe('');
    expect(existsSync('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')).toBe(false);
  });
});
