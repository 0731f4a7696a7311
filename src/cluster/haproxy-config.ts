// The cluster's HAProxy configuration: the repository's deploy/haproxy/haproxy.cfg
// (the one compose uses, so that what the cluster tests is what ships) with
// its server lines replaced by the local instances.
export const SERVERS_MARKER = '# ---- servers ----';

export interface Backend {
  name: string;
  port: number;
  /** The instance's session limit: HAProxy queues rather than send more. */
  maxSessions: number;
}

export class HaproxyConfigError extends Error {
  override readonly name = 'HaproxyConfigError';
}

export function renderClusterConfig(template: string, backends: Backend[]): string {
  const at = template.indexOf(SERVERS_MARKER);
  if (at === -1) throw new HaproxyConfigError(`the HAProxy template has no "${SERVERS_MARKER}" line`);
  const head = template.slice(0, at + SERVERS_MARKER.length);
  const servers = backends.map((b) => `    server ${b.name} 127.0.0.1:${b.port} maxconn ${b.maxSessions}`);
  return `${head}\n${servers.join('\n')}\n`;
}

export interface ServerState {
  name: string;
  /** HAProxy's words: UP, DOWN, MAINT, "UP 1/2" while rising, ... */
  status: string;
  /** Connections (sessions and requests) HAProxy has open to it now. */
  current: number;
}

/** The backend's servers from HAProxy's CSV statistics (`/stats;csv`). */
export function parseStatsCsv(csv: string, backend: string): ServerState[] {
  const [header, ...rows] = csv.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const col = (name: string): number => {
    const i = columns.indexOf(name);
    if (i === -1) throw new HaproxyConfigError(`HAProxy statistics lack the "${name}" column`);
    return i;
  };
  const [px, sv, status, scur] = [col('pxname'), col('svname'), col('status'), col('scur')];
  return rows
    .map((row) => row.split(','))
    .filter((f) => f[px] === backend && f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND')
    .map((f) => ({ name: f[sv]!, status: f[status]!, current: Number(f[scur]) }));
}
