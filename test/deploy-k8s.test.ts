// deploy/k8s checked offline, without a cluster: every object against the
// Kubernetes OpenAPI schemas (kubernetes-models), unknown fields through
// TypeScript's excess-property check on the same models' types, and the
// deployment's own arithmetic: probes on routes the server has, settings the
// server accepts, a grace period that covers preStop and the drain, memory
// sized from docs/benchmarks.md, selectors and names that line up.
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { parseConfig } from '../src/server/config.js';
import { createMetrics } from '../src/server/metrics.js';

const run = promisify(execFile);
const DIR = 'deploy/k8s';

/** The models this deployment uses: kind → class with validate(), and the module of its type for the TypeScript check. */
// Each model's constructor takes its own data type; parsed YAML is checked at run time.
type Model = new (data: any) => { validate(): void };
const MODELS: Record<string, { model: Model; module: string; type: string }> = {
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { model: HorizontalPodAutoscaler, module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', type: 'IHorizontalPodAutoscaler' },
  'networking.k8s.io/v1/Ingress': { model: Ingress, module: 'kubernetes-models/networking.k8s.io/v1/Ingress', type: 'IIngress' },
};

type Doc = Record<string, any> & { apiVersion: string; kind: string };
const files: Record<string, Doc[]> = {};
const all = (): Doc[] => Object.values(files).flat();
const one = (kind: string): Doc => {
  const found = all().filter((d) => d.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};

beforeAll(async () => {
  for (const name of (await readdir(DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
    if (name === 'kustomization.yaml' || name === 'prometheus-adapter-values.yaml') continue;
    const docs = parseAllDocuments(await readFile(join(DIR, name), 'utf8'));
    for (const d of docs) expect(d.errors).toEqual([]);
    files[name] = docs.map((d) => d.toJS() as Doc);
  }
});

describe('deploy/k8s', () => {
  it('kustomization lists every manifest', async () => {
    const kustomization = parse(await readFile(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(Object.keys(files));
  });

  it('every object validates against the Kubernetes schemas', () => {
    expect(all().map((d) => `${d.apiVersion}/${d.kind}`).sort()).toEqual(Object.keys(MODELS).sort());
    for (const doc of all()) {
      const { model } = MODELS[`${doc.apiVersion}/${doc.kind}`]!;
      expect(() => new model(doc).validate(), `${doc.kind}`).not.toThrow();
    }
    // The schemas are strict about types: a wrong one is caught.
    const broken = structuredClone(one('Deployment'));
    broken.spec.replicas = 'three';
    expect(() => new (Deployment as Model)(broken).validate()).toThrow(/replicas/);
  });

  it('has no field the Kubernetes types lack (TypeScript excess-property check)', async () => {
    const dir = 'test-output/k8s-typecheck';
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const source = (docs: Doc[]) =>
      docs
        .map((doc, i) => {
          const { module, type } = MODELS[`${doc.apiVersion}/${doc.kind}`]!;
          return `import type { ${type} as T${i} } from '${module}';\nexport const doc${i}: T${i} = ${JSON.stringify(doc, null, 2)};\n`;
        })
        .join('\n');
    const tsc = async (docs: Doc[]) => {
      await writeFile(join(dir, 'manifests.ts'), source(docs));
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, types: [] }, files: ['manifests.ts'] }));
      return run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', join(dir, 'tsconfig.json')]).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
    };
    expect(await tsc(all())).toBe('');
    // And the check bites: a misspelt field is reported.
    const typo = structuredClone(one('Deployment'));
    typo.spec.template.spec.terminationGracePeriod = 30;
    expect(await tsc([typo])).toMatch(/terminationGracePeriod/);
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('the pod: probes on the server routes, settings the server accepts, grace that covers preStop and the drain', () => {
    const deployment = one('Deployment');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    const env: Record<string, string> = Object.fromEntries(container.env.filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));
    const config = parseConfig([], { ...env, EMOMIX_INSTANCE_ID: 'pod-name' })!;
    expect(container.env.find((e: { name: string }) => e.name === 'EMOMIX_INSTANCE_ID').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(container.ports[0].containerPort).toBe(config.port);

    expect(container.readinessProbe.httpGet.path).toBe('/health');
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(container.startupProbe.httpGet.path).toBe('/health/live');

    const [command, seconds] = container.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    const needed = Number(seconds) + config.drainDelayMs / 1000 + config.drainTimeoutMs / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(needed);

    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
  });

  it('requests memory for its session limit from the benchmark figures', async () => {
    const benchmarks = await readFile('docs/benchmarks.md', 'utf8');
    // A run can measure a session as costing less than nothing (the median with sessions under the idle
    // figure, after a collection): it then adds nothing to the request.
    const [, idle, perSession] = /at idle[^:]*: ([\d.]+) MiB; per extra session: (-?[\d.]+) MiB/.exec(benchmarks) ?? [];
    expect(idle).toBeDefined();
    const container = one('Deployment').spec.template.spec.containers[0];
    const maxSessions = Number(container.env.find((e: { name: string }) => e.name === 'EMOMIX_MAX_SESSIONS').value);
    const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? Number(/^(\d+)Gi$/.exec(q)?.[1]) * 1024);
    const expected = Number(idle) + maxSessions * Math.max(0, Number(perSession));
    expect(mib(container.resources.requests.memory)).toBeGreaterThanOrEqual(expected);
    expect(mib(container.resources.limits.memory)).toBeGreaterThan(mib(container.resources.requests.memory));
    // The HPA target leaves room under the session limit.
    const target = Number(one('HorizontalPodAutoscaler').spec.metrics[0].pods.target.averageValue);
    expect(target).toBeLessThan(maxSessions);
  });

  it('names line up: selectors, the HPA target and metric, the ingress backend', async () => {
    const deployment = one('Deployment');
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(one('Service').spec.selector).toEqual(labels);
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);

    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    const metric = hpa.spec.metrics[0].pods.metric.name;
    const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(exported).toContain(metric);
    const adapter = await readFile(join(DIR, 'prometheus-adapter-values.yaml'), 'utf8');
    expect((parse(adapter) as { rules: { custom: { seriesQuery: string; name: { as: string } }[] } }).rules.custom[0]).toMatchObject({ seriesQuery: expect.stringContaining(metric), name: { as: metric } });

    const service = one('Service');
    const backend = one('Ingress').spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
    expect(service.spec.ports[0].targetPort).toBe(deployment.spec.template.spec.containers[0].ports[0].name);
  });
});
