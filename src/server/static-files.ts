// Static files of the browser client. Hand-written rather than serve-static:
// it is a handful of files, GET only, and the one thing that matters — never
// leaving the root, symlinks included — is checked explicitly below.
import { realpath, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  path: string;
  size: number;
  contentType: string;
}

/** The file under `root` that a URL path names, or null (missing, a directory, or outside the root). */
export async function resolveStaticFile(root: string, urlPath: string): Promise<StaticFile | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  try {
    const base = await realpath(resolve(root));
    const candidate = resolve(join(base, relative));
    if (!candidate.startsWith(base + sep)) return null;
    const real = await realpath(candidate);
    if (!real.startsWith(base + sep)) return null;
    const info = await stat(real);
    if (!info.isFile()) return null;
    return { path: real, size: info.size, contentType: CONTENT_TYPES[extname(real).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return null;
  }
}

const require = createRequire(import.meta.url);

// Browser builds of dependencies, served from node_modules rather than copied
// into the web root, so a fresh clone needs no build step for the page.
const VENDOR_FILES: Record<string, () => string> = {
  // The UMD build without `new Function` (it defines globalThis.msgpackr).
  '/vendor/msgpackr.js': () => join(dirname(require.resolve('msgpackr')), 'index-no-eval.min.js'),
};

/** The dependency file a /vendor/ URL path names, or null. */
export async function resolveVendorFile(urlPath: string): Promise<StaticFile | null> {
  const locate = Object.hasOwn(VENDOR_FILES, urlPath) ? VENDOR_FILES[urlPath] : undefined;
  if (!locate) return null;
  const path = locate();
  const info = await stat(path);
  return { path, size: info.size, contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' };
}
