// The error catalogue: every code answers HTTP with a status, every code that can
// end a session closes it with its own code, and a ProtocolError reads both there.
import { describe, expect, it } from 'vitest';
import { CloseCode, ERRORS, ErrorCode, ProtocolError } from '../src/protocol/index.js';

const FATAL = [ErrorCode.unauthorized, ErrorCode.forbiddenOrigin, ErrorCode.serverBusy, ErrorCode.idleTimeout, ErrorCode.shuttingDown, ErrorCode.rateLimited, ErrorCode.internal];

describe('ERRORS', () => {
  it('gives every code an HTTP error status', () => {
    for (const code of Object.values(ErrorCode)) expect({ code, status: ERRORS[code].status }).toEqual({ code, status: expect.toSatisfy((s: number) => s >= 400 && s < 600) });
    expect(Object.keys(ERRORS).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('gives the codes that end a session a close code, and no other code one', () => {
    const closing = Object.values(ErrorCode).filter((code) => ERRORS[code].close !== undefined);
    expect(closing.sort()).toEqual([...FATAL].sort());
    const closeCodes = new Set<number>(Object.values(CloseCode));
    for (const code of FATAL) expect(closeCodes.has(ERRORS[code].close!)).toBe(true);
  });
});

describe('ProtocolError', () => {
  it('reads its status and close code from the catalogue', () => {
    const error = new ProtocolError(ErrorCode.rateLimited, 'more than 10 messages a second');
    expect([error.status, error.closeCode, error.message]).toEqual([400, 4429, 'more than 10 messages a second']);
    expect(new ProtocolError(ErrorCode.serverBusy, 'full').status).toBe(503);
  });

  it('takes the catalogue message when the occasion adds nothing', () => {
    expect(new ProtocolError(ErrorCode.shuttingDown).message).toBe('the server is shutting down');
    expect(new ProtocolError(ErrorCode.internal).closeCode).toBe(CloseCode.internal);
  });
});
