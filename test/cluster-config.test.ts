// The cluster's HAProxy configuration and flags: the shipped template renders
// with the local instances and HAProxy itself accepts the result.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HaproxyConfigError, parseStatsCsv, renderClusterConfig, SERVERS_MARKER } from '../src/cluster/haproxy-config.js';
import { ClusterOptionsError, parseClusterOptions } from '../src/cluster/options.js';

const run = promisify(execFile);

describe('renderClusterConfig', () => {
  it('replaces the template servers with one line per local instance, with its session limit as maxconn', async () => {
    const template = await readFile('deploy/haproxy/haproxy.cfg', 'utf8');
    const config = renderClusterConfig(template, [
      { name: 'emomix-1', port: 41001, maxSessions: 8 },
      { name: 'emomix-2', port: 41002, maxSessions: 8 },
    ]);
    const servers = config.split('\n').filter((l) => /^\s+server /.test(l));
    expect(servers.map((l) => l.trim())).toEqual(['server emomix-1 127.0.0.1:41001 maxconn 8', 'server emomix-2 127.0.0.1:41002 maxconn 8']);
    expect(config.slice(0, config.indexOf(SERVERS_MARKER))).toBe(template.slice(0, template.indexOf(SERVERS_MARKER)));

    // HAProxy's own check of the rendered file and of the template compose uses.
    const dir = await mkdtemp(join(tmpdir(), 'emomix-haproxy-'));
    try {
      await writeFile(join(dir, 'cluster.cfg'), config);
      for (const file of [join(dir, 'cluster.cfg'), 'deploy/haproxy/haproxy.cfg']) {
        const { stdout } = await run('haproxy', ['-c', '-f', file]);
        expect(stdout).toContain('Configuration file is valid');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a template without the servers marker', () => {
    expect(() => renderClusterConfig('backend emomix\n', [])).toThrow(HaproxyConfigError);
  });
});

describe('parseStatsCsv', () => {
  it('reads the backend servers, not the frontend or backend totals', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
      'emomix,FRONTEND,,,3,5,,9,,,,,,,,,,OPEN,',
      'emomix,emomix-1,0,0,2,3,8,5,,,,,,,,,,UP,1',
      'emomix,emomix-2,0,0,0,1,8,2,,,,,,,,,,DOWN,1',
      'emomix,BACKEND,0,0,2,4,,7,,,,,,,,,,UP,2',
      'stats,FRONTEND,,,1,1,,1,,,,,,,,,,OPEN,',
    ].join('\n');
    expect(parseStatsCsv(csv, 'emomix')).toEqual([
      { name: 'emomix-1', status: 'UP', current: 2 },
      { name: 'emomix-2', status: 'DOWN', current: 0 },
    ]);
  });
});

describe('parseClusterOptions', () => {
  it('has defaults, takes the session limit from the environment, and refuses bad numbers', () => {
    expect(parseClusterOptions([], {})).toMatchObject({ instances: 3, port: 8080, host: '127.0.0.1', maxSessions: 64, drainDelayMs: 3000 });
    expect(parseClusterOptions(['--instances', '5', '--port', '9000'], { EMOMIX_MAX_SESSIONS: '12' })).toMatchObject({ instances: 5, port: 9000, maxSessions: 12 });
    expect(parseClusterOptions(['--help'], {})).toBeNull();
    expect(() => parseClusterOptions(['--instances', '0'], {})).toThrow(ClusterOptionsError);
    expect(() => parseClusterOptions(['--replicas', '2'], {})).toThrow(ClusterOptionsError);
  });
});
