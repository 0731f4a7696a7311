// `emomix cluster` flags. Each instance's other settings come from the
// environment (EMOMIX_*, see `emomix serve --help`), which the instances inherit.
import { parseArgs } from 'node:util';

export interface ClusterOptions {
  instances: number;
  port: number;
  host: string;
  maxSessions: number;
  drainDelayMs: number;
  haproxy: string;
  config: string;
}

export class ClusterOptionsError extends Error {
  override readonly name = 'ClusterOptionsError';
}

export const clusterHelp = `usage: emomix cluster [--instances N] [--port P] [options]

Starts N \`emomix serve\` instances on 127.0.0.1 and HAProxy on HOST:P in front
of them, in the foreground. An instance that exits is started again; SIGHUP
restarts them one at a time (rolling restart); SIGTERM or Ctrl-C drains and
stops everything (a second one stops at once).

  --instances N        instances [3]
  --port P             HAProxy's port [8080]
  --host H             HAProxy's interface [127.0.0.1]
  --max-sessions M     each instance's session limit, also HAProxy's maxconn [EMOMIX_MAX_SESSIONS or 64]
  --drain-delay-ms D   how long a stopping instance keeps admitting while HAProxy takes it out [3000]
  --haproxy PATH       the haproxy program [haproxy]
  --config FILE        the HAProxy template [deploy/haproxy/haproxy.cfg]`;

function integer(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ClusterOptionsError(`--${flag}: expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** Parses the flags; null for --help. Throws ClusterOptionsError. */
export function parseClusterOptions(argv: string[], env: NodeJS.ProcessEnv): ClusterOptions | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        instances: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'max-sessions': { type: 'string' },
        'drain-delay-ms': { type: 'string' },
        haproxy: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    throw new ClusterOptionsError((error as Error).message);
  }
  if (values.help) return null;
  const text = (key: string): string | undefined => values[key] as string | undefined;
  return {
    instances: integer(text('instances'), 'instances', 3, 1, 64),
    port: integer(text('port'), 'port', 8080, 1, 65535),
    host: text('host') ?? '127.0.0.1',
    maxSessions: integer(text('max-sessions') ?? env['EMOMIX_MAX_SESSIONS'], 'max-sessions', 64, 1, 100_000),
    drainDelayMs: integer(text('drain-delay-ms') ?? env['EMOMIX_DRAIN_DELAY_MS'], 'drain-delay-ms', 3000, 0, 600_000),
    haproxy: text('haproxy') ?? 'haproxy',
    config: text('config') ?? 'deploy/haproxy/haproxy.cfg',
  };
}
