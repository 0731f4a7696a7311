// Who may connect: the optional bearer token (header, or ?token= for browsers,
// which cannot set headers on a WebSocket) and the Origin allow-list.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCode, ProtocolError } from '../protocol/index.js';

export interface AccessRules {
  authToken: string | undefined;
  allowedOrigins: string[];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header);
    return match?.[1]?.trim();
  }
  return new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? undefined;
}

/**
 * True when the request's Origin (if any) is allowed: an empty list allows every origin,
 * and a page this server served (the studio) is always allowed its own origin, which
 * browsers send on its module scripts, fetches and WebSocket. Same origin is read from
 * the Host header, under either scheme (TLS may end at a proxy in front).
 */
export function originAllowed(req: IncomingMessage, rules: AccessRules): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || rules.allowedOrigins.length === 0 || rules.allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

/** Why a request may not proceed, or null. Non-browser clients send no Origin and pass that check. */
export function checkAccess(req: IncomingMessage, rules: AccessRules, needsToken: boolean): ProtocolError | null {
  if (!originAllowed(req, rules)) {
    return new ProtocolError(ErrorCode.forbiddenOrigin);
  }
  if (needsToken && rules.authToken !== undefined) {
    const token = presentedToken(req);
    // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
    if (token === undefined || !timingSafeEqual(digest(token), digest(rules.authToken))) {
      return new ProtocolError(ErrorCode.unauthorized);
    }
  }
  return null;
}
