// What /health and /health/live answer. /health is readiness: load balancers
// and Kubernetes send new sessions only where it says 200, so it turns 503 as
// soon as the instance is full or leaving. /health/live only says the process
// serves HTTP: a full instance is healthy and must not be restarted.
import { hostname } from 'node:os';

export type Readiness = 'ok' | 'full' | 'draining';

export interface Capacity {
  /** WebSocket sessions plus /v1/speech requests in flight. */
  used: number;
  max: number;
}

export interface HealthReport {
  status: Readiness;
  instance: string;
  sessions: number;
  maxSessions: number;
  voices: string[];
  uptimeS: number;
}

/** The configured instance id, or one unique on this host: the host name (a pod's or container's name) and the process id. */
export function instanceIdOf(configured: string | undefined): string {
  return configured ?? `${hostname()}-${process.pid}`;
}

export function readinessOf(leaving: boolean, capacity: Capacity): Readiness {
  if (leaving) return 'draining';
  return capacity.used >= capacity.max ? 'full' : 'ok';
}

export function httpStatusOf(readiness: Readiness): 200 | 503 {
  return readiness === 'ok' ? 200 : 503;
}
