// The machine a run happened on, and how busy other programs kept it: on a shared
// machine the figures are only as good as the load they were measured under.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';

// Linux reports process and machine CPU time in clock ticks of 1/100 s (USER_HZ) on every
// architecture it supports.
const TICK_MS = 10;

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  commit: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const ort = JSON.parse(await readFile(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    onnxruntime: ort.version,
    commit: gitCommit(),
  };
}

function gitCommit(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: new URL('..', import.meta.url), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : ''}`;
  } catch {
    return 'unknown';
  }
}

/** Busy and total CPU time of the whole machine so far, in ms summed over cores (Linux only). */
async function machineCpuMs(): Promise<{ busy: number; total: number } | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = ticks[3]! + (ticks[4] ?? 0);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
  } catch {
    return undefined;
  }
}

export interface BackgroundLoad {
  /** Cores' worth of CPU that other programs used while the benchmark idled (null where unknown). */
  busyCores: number | null;
  loadAverage1m: number;
}

/** Watches the machine for `ms` while this process does nothing. */
export async function backgroundLoad(ms: number): Promise<BackgroundLoad> {
  const before = await machineCpuMs();
  const own = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await machineCpuMs();
  const ownMs = (() => {
    const d = process.cpuUsage(own);
    return (d.user + d.system) / 1000;
  })();
  const busyCores = before && after && after.total > before.total ? ((after.busy - before.busy - ownMs) / (after.total - before.total)) * availableParallelism() : null;
  return { busyCores: busyCores === null ? null : Math.max(0, Math.round(busyCores * 100) / 100), loadAverage1m: loadavg()[0]! };
}

/** Resident memory of a process, in bytes (VmRSS; `ps` where /proc is missing). */
export async function residentBytes(pid: number): Promise<number> {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
}

/** User plus system CPU time of a process so far, in ms (Linux only; NaN elsewhere). */
export async function processCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is parenthesised and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}
