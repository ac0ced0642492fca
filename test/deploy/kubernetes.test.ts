// The Kubernetes manifests (k8s/, applied with `kubectl apply -k k8s/`) proven without a cluster:
// rendered by kubectl kustomize, checked against the API schema and against the services' code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import { analyzerEnv, loadAnalyzerConfig } from '../../services/analyzer/src/config.js';
import { apiEnv, loadApiConfig } from '../../services/api/src/config.js';
import {
  parseQuantity,
  preStopSeconds,
  ref,
  renderKustomization,
  selects,
  serviceSelects,
  validateObject,
  type Container,
  type K8sObject,
  type PodTemplate,
} from './support/k8s.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S_DIR = `${ROOT}k8s`;
const NAMESPACE = 'metrics-pipeline';
const source = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A process environment, as the config loaders take it. */
type Env = Readonly<Record<string, string | undefined>>;

/** What the manifests must agree with, per service image: its env contract, loader and routes. */
const SERVICES = {
  api: {
    image: 'metrics-pipeline/api',
    pkg: 'services/api/package.json',
    env: apiEnv,
    load: (env: Env) => loadApiConfig(env),
    portVariable: 'PORT',
    routes: 'services/api/src/app.ts',
    route: (path: string) => new RegExp(`app\\.get\\(\\s*'${escape(path)}'`),
  },
  analyzer: {
    image: 'metrics-pipeline/analyzer',
    pkg: 'services/analyzer/package.json',
    env: analyzerEnv,
    load: (env: Env) => loadAnalyzerConfig(env),
    portVariable: 'METRICS_PORT',
    routes: 'services/analyzer/src/ops-server.ts',
    route: (path: string) => new RegExp(`path === '${escape(path)}'`),
  },
} as const;
type ServiceName = keyof typeof SERVICES;

/** The port a service listens on given its environment: its port variable, else the schema default. */
function listeningPort(service: ServiceName, env: Env): number {
  const def = SERVICES[service];
  const schema = def.env.properties as Readonly<Record<string, { readonly default?: unknown }>>;
  return Number(env[def.portVariable] ?? schema[def.portVariable]?.default);
}

interface Workload {
  readonly object: K8sObject;
  readonly ref: string;
  readonly template: PodTemplate;
  readonly replicas: number;
}

describe('Kubernetes manifests (kubectl kustomize k8s/)', () => {
  let objects: K8sObject[];
  let workloads: Workload[];
  let configMaps: Map<string, IConfigMap & K8sObject>;
  let secrets: Map<string, ISecret & K8sObject>;
  const ofKind = <T>(kind: string) => objects.filter((o) => o.kind === kind) as unknown as (T & K8sObject)[];
  const workload = (kind: string, name: string) => {
    const found = workloads.find((w) => w.object.kind === kind && w.object.metadata.name === name);
    if (!found) throw new Error(`${kind}/${name} is not in the rendered manifests`);
    return found;
  };
  const serviceOf = (container: Container): ServiceName | undefined =>
    (Object.keys(SERVICES) as ServiceName[]).find((name) => container.image?.split(':')[0] === SERVICES[name].image);
  const serviceContainers = () =>
    workloads.flatMap((w) =>
      w.template.spec!.containers.flatMap((c) => {
        const service = serviceOf(c);
        return service ? [{ w, c, service, at: `${w.ref} container ${c.name}` }] : [];
      }),
    );

  /** The environment a container starts with: envFrom sources in order, then env (literal values). */
  const containerEnv = (w: Workload, c: Container): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      if (from.configMapRef) {
        const cm = configMaps.get(from.configMapRef.name!);
        expect(cm || from.configMapRef.optional, `${w.ref} container ${c.name}: envFrom ConfigMap ${from.configMapRef.name} does not exist`).to.be.ok;
        for (const [k, v] of Object.entries(cm?.data ?? {})) env[prefix + k] = v;
      }
      if (from.secretRef) {
        const secret = secrets.get(from.secretRef.name!);
        expect(secret || from.secretRef.optional, `${w.ref} container ${c.name}: envFrom Secret ${from.secretRef.name} does not exist and is not optional`).to.be.ok;
        for (const [k, v] of Object.entries(secret?.stringData ?? {})) env[prefix + k] = v;
        for (const [k, v] of Object.entries(secret?.data ?? {})) env[prefix + k] = Buffer.from(v, 'base64').toString('utf8');
      }
    }
    for (const { name, value } of c.env ?? []) if (value !== undefined) env[name] = value;
    return env;
  };
  /** The service's config as the container would load it; a rejection names the container. */
  const loadFor = (w: Workload, c: Container, service: ServiceName) => {
    try {
      return SERVICES[service].load(containerEnv(w, c));
    } catch (err) {
      throw new Error(`${w.ref} container ${c.name}: the ${service} config loader rejects its environment: ${(err as Error).message}`);
    }
  };
  const portOf = (c: Container, port: string | number | undefined): number | undefined =>
    typeof port === 'number' ? c.ports?.find((p) => p.containerPort === port)?.containerPort : c.ports?.find((p) => p.name === port)?.containerPort;

  before(() => {
    objects = renderKustomization(K8S_DIR);
    workloads = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
      .map((o) => {
        const spec = (o as unknown as IDeployment | IStatefulSet).spec!;
        return { object: o, ref: ref(o), template: spec.template, replicas: spec.replicas ?? 1 };
      });
    configMaps = new Map(ofKind<IConfigMap>('ConfigMap').map((cm) => [cm.metadata.name, cm]));
    secrets = new Map(ofKind<ISecret>('Secret').map((s) => [s.metadata.name, s]));
  });

  describe('objects', () => {
    it('every object validates against the Kubernetes API schema, without unknown fields or kinds', () => {
      expect(objects.length).to.be.greaterThan(0);
      for (const object of objects) validateObject(object);
    });

    it('are unique per kind and name, in the metrics-pipeline namespace, which is part of the set', () => {
      const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      expect(new Set(names).size, `duplicates among ${names.join(', ')}`).to.equal(names.length);
      const namespaces = ofKind<K8sObject>('Namespace');
      expect(namespaces.map((n) => n.metadata.name), 'the Namespace objects').to.deep.equal([NAMESPACE]);
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        expect(o.metadata.namespace, `${ref(o)}: namespace`).to.equal(NAMESPACE);
      }
    });

    it('the namespace enforces the restricted Pod Security Standard', () => {
      const [ns] = ofKind<K8sObject>('Namespace');
      expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], `Namespace/${NAMESPACE}: pod-security enforce label`).to.equal('restricted');
    });

    it('carry the common labels, which never enter a selector (selectors are immutable)', () => {
      const kustomization = parseYaml(source('k8s/kustomization.yaml')) as { labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[] };
      const common = Object.assign({}, ...(kustomization.labels ?? []).map((l) => l.pairs)) as Record<string, string>;
      expect(Object.keys(common), 'k8s/kustomization.yaml: common labels').to.not.be.empty;
      for (const l of kustomization.labels ?? []) expect(l.includeSelectors, `k8s/kustomization.yaml: labels ${JSON.stringify(l.pairs)} includeSelectors`).to.equal(false);
      for (const o of objects) {
        for (const [k, v] of Object.entries(common)) expect(o.metadata.labels?.[k], `${ref(o)}: label ${k}`).to.equal(v);
      }
      const selectorKeys = (o: K8sObject): string[] => {
        const spec = (o as { spec?: Record<string, unknown> }).spec ?? {};
        const sel = (s: unknown) => Object.keys((s as { matchLabels?: object } | undefined)?.matchLabels ?? {});
        if (o.kind === 'Service') return Object.keys((spec.selector as object | undefined) ?? {});
        if (o.kind === 'NetworkPolicy') return [...sel(spec.podSelector), ...((spec.ingress as { from?: { podSelector?: unknown }[] }[] | undefined) ?? []).flatMap((i) => (i.from ?? []).flatMap((f) => sel(f.podSelector)))];
        return sel(spec.selector);
      };
      for (const o of objects) {
        for (const key of Object.keys(common)) expect(selectorKeys(o), `${ref(o)}: selector uses the common label ${key}`).to.not.include(key);
      }
    });
  });

  describe('workloads and services', () => {
    it('every Deployment and StatefulSet selector matches its own pod template labels', () => {
      expect(workloads.map((w) => w.ref)).to.include.members(['Deployment/api', 'Deployment/analyzer', 'StatefulSet/redis']);
      for (const w of workloads) {
        const spec = (w.object as unknown as IDeployment).spec!;
        expect(Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions?.length ?? 0), `${w.ref}: empty selector`).to.be.greaterThan(0);
        expect(selects(spec.selector, w.template.metadata?.labels), `${w.ref}: selector ${JSON.stringify(spec.selector)} does not match its template labels`).to.equal(true);
        for (const other of workloads.filter((x) => x !== w)) {
          expect(selects(spec.selector, other.template.metadata?.labels), `${w.ref}: selector also matches the pods of ${other.ref}`).to.equal(false);
        }
      }
    });

    it('every Service selects pods of some workload, and its targetPort is a port those containers declare', () => {
      const services = ofKind<IService>('Service');
      expect(services.map((s) => s.metadata.name)).to.include.members(['api', 'redis']);
      for (const s of services) {
        const selected = workloads.filter((w) => serviceSelects(s.spec?.selector, w.template.metadata?.labels));
        expect(selected, `${ref(s)}: selector ${JSON.stringify(s.spec?.selector)} matches no pod template`).to.not.be.empty;
        for (const p of s.spec?.ports ?? []) {
          const target = p.targetPort ?? p.port;
          for (const w of selected) {
            const declared = w.template.spec!.containers.some((c) => portOf(c, target) !== undefined);
            expect(declared, `${ref(s)} port ${p.port}: targetPort ${target} is not a container port of ${w.ref}`).to.equal(true);
          }
        }
      }
    });

    it('Service/api maps port 80 to the api container port 8080', () => {
      const [api] = ofKind<IService>('Service').filter((s) => s.metadata.name === 'api');
      const port = api?.spec?.ports?.find((p) => p.port === 80);
      expect(port, 'Service/api: port 80').to.exist;
      const c = workload('Deployment', 'api').template.spec!.containers[0]!;
      expect(portOf(c, port!.targetPort), 'Service/api: port 80 targetPort').to.equal(8080);
    });

    it('images are the services at their package version, pulled only if not present', () => {
      for (const { c, service, at } of serviceContainers()) {
        const { version } = JSON.parse(source(SERVICES[service].pkg)) as { version: string };
        expect(c.image, `${at}: image`).to.equal(`${SERVICES[service].image}:${version}`);
        expect(c.imagePullPolicy, `${at}: imagePullPolicy`).to.equal('IfNotPresent');
      }
      expect(serviceContainers().map((x) => x.service).sort(), 'containers running the api and the analyzer').to.deep.equal(['analyzer', 'api']);
    });

    it('replicas spread across nodes as a preference, counting only their own pods', () => {
      for (const name of ['api', 'analyzer']) {
        const w = workload('Deployment', name);
        const spread = w.template.spec!.topologySpreadConstraints ?? [];
        const affinity = w.template.spec!.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
        expect(spread.length + affinity.length, `${w.ref}: no topology spread or anti-affinity`).to.be.greaterThan(0);
        for (const t of spread) {
          expect(t.topologyKey, `${w.ref}: topologySpreadConstraint topologyKey`).to.equal('kubernetes.io/hostname');
          expect(t.whenUnsatisfiable, `${w.ref}: spread must not block scheduling on one node`).to.equal('ScheduleAnyway');
          expect(selects(t.labelSelector, w.template.metadata?.labels), `${w.ref}: spread labelSelector does not select its own pods`).to.equal(true);
        }
      }
    });
  });

  describe('autoscaling and disruption', () => {
    it('an autoscaling/v2 HPA on CPU, 2 to 5 replicas, targets each of the api and analyzer Deployments', () => {
      const hpas = ofKind<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler');
      expect(hpas.map((h) => h.spec!.scaleTargetRef.name).sort(), 'HPA targets').to.deep.equal(['analyzer', 'api']);
      for (const h of hpas) {
        const target = h.spec!.scaleTargetRef;
        expect(target.kind, `${ref(h)}: scaleTargetRef.kind`).to.equal('Deployment');
        expect(target.apiVersion, `${ref(h)}: scaleTargetRef.apiVersion`).to.equal('apps/v1');
        const w = workload('Deployment', target.name);
        expect(h.spec!.minReplicas, `${ref(h)}: minReplicas`).to.equal(2);
        expect(h.spec!.maxReplicas, `${ref(h)}: maxReplicas`).to.equal(5);
        expect(w.replicas, `${w.ref}: replicas vs ${ref(h)} range`).to.be.within(2, 5);
        const cpu = (h.spec!.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
        expect(cpu?.resource?.target, `${ref(h)}: CPU target`).to.deep.equal({ type: 'Utilization', averageUtilization: 70 });
        // Utilization is a share of the request: without a CPU request the HPA cannot compute it.
        for (const c of w.template.spec!.containers) expect(c.resources?.requests?.cpu, `${w.ref} container ${c.name}: CPU request (needed by ${ref(h)})`).to.exist;
      }
    });

    it('the analyzer HPA waits before scaling down, so it does not flap', () => {
      const [h] = ofKind<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler').filter((x) => x.spec!.scaleTargetRef.name === 'analyzer');
      expect(h?.spec?.behavior?.scaleDown?.stabilizationWindowSeconds, 'HorizontalPodAutoscaler/analyzer: scaleDown.stabilizationWindowSeconds').to.be.at.least(300);
    });

    it('each PodDisruptionBudget selects the pods of exactly one workload and leaves room to drain', () => {
      const pdbs = ofKind<IPodDisruptionBudget>('PodDisruptionBudget');
      const covered = new Set<string>();
      for (const p of pdbs) {
        const selected = workloads.filter((w) => selects(p.spec?.selector, w.template.metadata?.labels));
        expect(selected.map((w) => w.ref), `${ref(p)}: workloads selected`).to.have.lengthOf(1);
        const w = selected[0]!;
        covered.add(w.ref);
        const hpa = ofKind<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler').find((h) => h.spec!.scaleTargetRef.name === w.object.metadata.name);
        const floor = hpa?.spec?.minReplicas ?? w.replicas;
        expect(p.spec?.minAvailable, `${ref(p)}: minAvailable`).to.equal(1);
        expect(floor, `${ref(p)}: minAvailable 1 must be below the ${floor} replicas of ${w.ref}, or no drain could evict one`).to.be.greaterThan(1);
      }
      expect([...covered].sort(), 'workloads with a PodDisruptionBudget').to.deep.equal(['Deployment/analyzer', 'Deployment/api']);
    });
  });

  describe('agreement with the services', () => {
    it('probe paths are routes the services serve, on the port they listen on', () => {
      for (const { w, c, service, at } of serviceContainers()) {
        const def = SERVICES[service];
        const routes = source(def.routes);
        const env = containerEnv(w, c);
        const listening = listeningPort(service, env);
        const probes = { livenessProbe: '/health', readinessProbe: '/ready', startupProbe: '/health' } as const;
        for (const [kind, path] of Object.entries(probes) as [keyof typeof probes, string][]) {
          const probe = c[kind];
          if (kind === 'startupProbe' && !probe) continue;
          expect(probe?.httpGet?.path, `${at}: ${kind} path`).to.equal(path);
          expect(routes, `${at}: ${kind} path ${path} is not a route in ${def.routes}`).to.match(def.route(path));
          expect(portOf(c, probe!.httpGet!.port), `${at}: ${kind} port ${probe!.httpGet!.port} vs ${def.portVariable} ${listening}`).to.equal(listening);
        }
        expect(routes, `${def.routes}: /metrics route`).to.match(def.route('/metrics'));
      }
    });

    it('every ConfigMap key is a variable a service knows, and CONSUMER_NAME is never shared', () => {
      const known = new Set([...Object.keys(apiEnv.properties), ...Object.keys(analyzerEnv.properties)]);
      expect(configMaps.size, 'ConfigMaps').to.equal(1);
      for (const cm of configMaps.values()) {
        expect(cm.metadata.name, `${ref(cm)}: name`).to.match(/^metrics-pipeline-config(-[a-z0-9]+)?$/);
        for (const key of Object.keys(cm.data ?? {})) {
          expect(known.has(key), `${ref(cm)}: ${key} is read by neither apiEnv nor analyzerEnv`).to.equal(true);
        }
        // One name for every replica would make them one consumer that steals its own batches.
        expect(cm.data, `${ref(cm)}: CONSUMER_NAME`).to.not.have.property('CONSUMER_NAME');
      }
    });

    it("each container's environment passes its service's config loader, and all share one config", () => {
      const used = new Set<string>();
      for (const { w, c, service, at } of serviceContainers()) {
        loadFor(w, c, service);
        for (const from of c.envFrom ?? []) if (from.configMapRef) used.add(from.configMapRef.name!);
      }
      expect([...used], 'ConfigMaps the api and analyzer read').to.deep.equal([...configMaps.keys()]);
      const [api, analyzer] = (['api', 'analyzer'] as const).map((name) => {
        const w = workload('Deployment', name);
        return loadFor(w, w.template.spec!.containers[0]!, name);
      }) as [ReturnType<typeof loadApiConfig>, ReturnType<typeof loadAnalyzerConfig>];
      for (const key of ['redisUrl', 'keyPrefix', 'windowSize'] as const) {
        expect(api[key], `api and analyzer disagree on ${key}`).to.equal(analyzer[key]);
      }
    });

    it('REDIS_URL names the redis Service and its port', () => {
      const w = workload('Deployment', 'api');
      const url = new URL(loadFor(w, w.template.spec!.containers[0]!, 'api').redisUrl);
      const host = url.hostname.split('.');
      expect(host[1] === undefined || host[1] === NAMESPACE, `REDIS_URL ${url.href}: namespace`).to.equal(true);
      const [svc] = ofKind<IService>('Service').filter((s) => s.metadata.name === host[0]);
      expect(svc, `REDIS_URL ${url.href}: no Service ${host[0]}`).to.exist;
      expect(svc!.spec!.ports!.map((p) => p.port), `${ref(svc!)}: ports vs REDIS_URL ${url.href}`).to.include(Number(url.port || 6379));
      expect(svc!.spec!.clusterIP, `${ref(svc!)}: clients need a stable virtual IP`).to.not.equal('None');
    });

    it('terminationGracePeriodSeconds outlasts the preStop sleep plus SHUTDOWN_TIMEOUT_MS', () => {
      for (const { w, c, service, at } of serviceContainers()) {
        const config = loadFor(w, c, service);
        const grace = w.template.spec!.terminationGracePeriodSeconds ?? 30;
        const needed = config.shutdownTimeoutMs / 1000 + preStopSeconds(c);
        expect(grace, `${w.ref}: terminationGracePeriodSeconds vs ${at} preStop ${preStopSeconds(c)} s + SHUTDOWN_TIMEOUT_MS ${config.shutdownTimeoutMs}`).to.be.greaterThan(needed);
      }
    });

    it('the api pauses before SIGTERM so Service endpoints drop it before it stops listening', () => {
      const c = workload('Deployment', 'api').template.spec!.containers[0]!;
      expect(preStopSeconds(c), 'Deployment/api container api: preStop sleep seconds').to.be.within(2, 15);
    });

    it('scrape annotations point at a declared container port serving /metrics', () => {
      for (const { w, c, service, at } of serviceContainers()) {
        const annotations = w.template.metadata?.annotations ?? {};
        expect(annotations['prometheus.io/scrape'], `${w.ref}: prometheus.io/scrape`).to.equal('true');
        expect(annotations['prometheus.io/path'], `${w.ref}: prometheus.io/path`).to.equal('/metrics');
        const port = Number(annotations['prometheus.io/port']);
        const env = containerEnv(w, c);
        const def = SERVICES[service];
        expect(portOf(c, port), `${at}: prometheus.io/port ${annotations['prometheus.io/port']} is not a declared container port`).to.equal(port);
        expect(port, `${w.ref}: prometheus.io/port vs ${def.portVariable}`).to.equal(listeningPort(service, env));
      }
    });
  });

  describe('secrets', () => {
    const TOKEN_VARIABLES = ['INGEST_TOKENS', 'READ_TOKENS'];
    const SECRET_NAME = /TOKEN|PASSWORD|SECRET|CREDENTIAL/i;

    it('the api takes INGEST_TOKENS and READ_TOKENS from a Secret it cannot start without', () => {
      const w = workload('Deployment', 'api');
      const c = w.template.spec!.containers[0]!;
      for (const name of TOKEN_VARIABLES) {
        const entries = (c.env ?? []).filter((e) => e.name === name);
        expect(entries, `${w.ref} container ${c.name}: env ${name}`).to.have.lengthOf(1);
        const entry = entries[0]!;
        expect(entry.value, `${w.ref}: ${name} must not be a literal value`).to.equal(undefined);
        const ref = entry.valueFrom?.secretKeyRef;
        expect(ref, `${w.ref}: ${name} must come from a secretKeyRef`).to.exist;
        expect(ref!.key, `${w.ref}: ${name} secretKeyRef key`).to.equal(name);
        // Not optional: a missing Secret keeps the pods from starting rather than opening /ingest.
        expect(ref!.optional ?? false, `${w.ref}: ${name} secretKeyRef.optional`).to.equal(false);
        expect(SERVICES.api.env.properties, `apiEnv knows ${name}`).to.have.property(name);
      }
    });

    it('no token or password is in the ConfigMap, a literal env value, or a committed Secret', () => {
      for (const cm of configMaps.values()) {
        for (const key of Object.keys(cm.data ?? {})) expect(key, `${ref(cm)}: ${key} looks like a secret`).to.not.match(SECRET_NAME);
      }
      for (const { w, c } of serviceContainers()) {
        for (const e of c.env ?? []) {
          if (SECRET_NAME.test(e.name)) expect(e.valueFrom?.secretKeyRef ?? e.valueFrom, `${w.ref} container ${c.name}: ${e.name} from a Secret`).to.exist;
        }
      }
      // The tokens' Secret is made by the operator (docs/kubernetes.md), never rendered from the repo.
      const rendered = [...secrets.values()].filter((s) => Object.keys({ ...s.data, ...s.stringData }).some((k) => TOKEN_VARIABLES.includes(k)));
      expect(rendered.map(ref), 'committed Secrets with tokens').to.be.empty;
    });

    it('the analyzer is given no tokens: it serves no client', () => {
      const w = workload('Deployment', 'analyzer');
      const c = w.template.spec!.containers[0]!;
      const names = [...(c.env ?? []).map((e) => e.name), ...Object.keys(containerEnv(w, c))];
      for (const name of TOKEN_VARIABLES) expect(names, `${w.ref}: ${name}`).to.not.include(name);
    });
  });

  describe('hardening', () => {
    it('every container has CPU and memory requests and limits, requests within limits', () => {
      for (const w of workloads) {
        for (const c of w.template.spec!.containers) {
          for (const r of ['cpu', 'memory'] as const) {
            const request = c.resources?.requests?.[r];
            const limit = c.resources?.limits?.[r];
            expect(request, `${w.ref} container ${c.name}: ${r} request`).to.exist;
            expect(limit, `${w.ref} container ${c.name}: ${r} limit`).to.exist;
            expect(parseQuantity(request!), `${w.ref} container ${c.name}: ${r} request ${request} > limit ${limit}`).to.be.at.most(parseQuantity(limit!));
          }
        }
      }
    });

    it('every pod and container runs non-root, read-only, without privileges or extra capabilities', () => {
      const uid: Record<string, number> = { 'Deployment/api': 1000, 'Deployment/analyzer': 1000, 'StatefulSet/redis': 999 };
      for (const w of workloads) {
        const pod = w.template.spec!;
        expect(pod.securityContext?.runAsNonRoot, `${w.ref}: pod runAsNonRoot`).to.equal(true);
        expect(pod.securityContext?.seccompProfile?.type, `${w.ref}: pod seccompProfile`).to.equal('RuntimeDefault');
        expect(pod.automountServiceAccountToken, `${w.ref}: automountServiceAccountToken (no pod here talks to the API server)`).to.equal(false);
        expect(pod.hostNetwork ?? false, `${w.ref}: hostNetwork`).to.equal(false);
        expect(pod.hostPID ?? false, `${w.ref}: hostPID`).to.equal(false);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          const at = `${w.ref} container ${c.name}`;
          const sc = c.securityContext ?? {};
          expect(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, `${at}: runAsNonRoot`).to.equal(true);
          expect(sc.runAsUser ?? pod.securityContext?.runAsUser, `${at}: runAsUser`).to.equal(uid[w.ref] ?? -1);
          expect(sc.readOnlyRootFilesystem, `${at}: readOnlyRootFilesystem`).to.equal(true);
          expect(sc.allowPrivilegeEscalation, `${at}: allowPrivilegeEscalation`).to.equal(false);
          expect(sc.privileged ?? false, `${at}: privileged`).to.equal(false);
          expect(sc.capabilities?.drop, `${at}: capabilities.drop`).to.deep.equal(['ALL']);
          expect(sc.capabilities?.add ?? [], `${at}: capabilities.add`).to.be.empty;
          expect(sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, `${at}: seccompProfile`).to.equal('RuntimeDefault');
        }
      }
    });

    it('the api and analyzer pods get no docker-link variables that could shadow their configuration', () => {
      for (const name of ['api', 'analyzer']) {
        const w = workload('Deployment', name);
        expect(w.template.spec!.enableServiceLinks, `${w.ref}: enableServiceLinks`).to.equal(false);
      }
    });
  });

  describe('redis', () => {
    it('is one StatefulSet replica of redis:7-alpine with AOF fsynced every second on a claimed volume', () => {
      const w = workload('StatefulSet', 'redis');
      const sts = w.object as unknown as IStatefulSet;
      expect(w.replicas, `${w.ref}: replicas`).to.equal(1);
      const c = w.template.spec!.containers[0]!;
      expect(c.image, `${w.ref}: image`).to.equal('redis:7-alpine');
      const args = [...(c.command ?? []), ...(c.args ?? [])].join(' ');
      expect(args, `${w.ref}: redis-server arguments`).to.include('--appendonly yes').and.include('--appendfsync everysec');
      const dir = /--dir (\S+)/.exec(args)?.[1] ?? '/data';
      const claims = (sts.spec!.volumeClaimTemplates ?? []).map((t) => t.metadata?.name);
      const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dir);
      expect(mount, `${w.ref}: nothing mounted at the data dir ${dir} (the root filesystem is read-only)`).to.exist;
      expect(claims, `${w.ref}: volume ${mount!.name} at ${dir} must come from volumeClaimTemplates`).to.include(mount!.name);
      expect(mount!.readOnly ?? false, `${w.ref}: ${dir} must be writable`).to.equal(false);
      expect(w.template.spec!.securityContext?.fsGroup, `${w.ref}: fsGroup (makes the volume writable for the redis user)`).to.exist;
      const headless = ofKind<IService>('Service').find((s) => s.metadata.name === sts.spec!.serviceName);
      expect(headless?.spec?.clusterIP, `${w.ref}: serviceName ${sts.spec!.serviceName} must be a headless Service`).to.equal('None');
    });

    it('is probed with redis-cli ping', () => {
      const w = workload('StatefulSet', 'redis');
      const c = w.template.spec!.containers[0]!;
      for (const kind of ['livenessProbe', 'readinessProbe'] as const) {
        expect((c[kind]?.exec?.command ?? []).join(' '), `${w.ref}: ${kind}`).to.match(/redis-cli\b.*\bping\b/);
      }
    });

    it('accepts connections on 6379 only from the api and analyzer pods (NetworkPolicy)', () => {
      const policies = ofKind<INetworkPolicy>('NetworkPolicy');
      const redis = workload('StatefulSet', 'redis');
      const guarding = policies.filter((p) => selects(p.spec?.podSelector, redis.template.metadata?.labels));
      expect(guarding.map(ref), 'NetworkPolicies selecting the redis pods').to.have.lengthOf(1);
      const policy = guarding[0]!;
      const at = ref(policy);
      expect(workloads.filter((w) => selects(policy.spec?.podSelector, w.template.metadata?.labels)).map((w) => w.ref), `${at}: podSelector must select only the redis pods`).to.deep.equal([redis.ref]);
      expect(policy.spec?.policyTypes, `${at}: policyTypes`).to.deep.equal(['Ingress']);
      const rules = policy.spec?.ingress ?? [];
      expect(rules, `${at}: ingress rules`).to.have.lengthOf(1);
      const rule = rules[0]!;
      for (const peer of rule.from ?? []) {
        expect(peer.namespaceSelector, `${at}: a peer with a namespaceSelector reaches beyond the namespace`).to.equal(undefined);
        expect(peer.ipBlock, `${at}: a peer with an ipBlock`).to.equal(undefined);
        expect(workloads.some((w) => selects(peer.podSelector, w.template.metadata?.labels)), `${at}: peer ${JSON.stringify(peer.podSelector)} selects no pods`).to.equal(true);
      }
      const allowed = workloads.filter((w) => (rule.from ?? []).some((peer) => selects(peer.podSelector, w.template.metadata?.labels)));
      expect(allowed.map((w) => w.ref).sort(), `${at}: ingress from`).to.deep.equal(['Deployment/analyzer', 'Deployment/api']);
      // Exactly the workloads that are given a REDIS_URL: no client is left out, nothing else let in.
      const clients = serviceContainers().filter(({ w, c }) => containerEnv(w, c).REDIS_URL !== undefined).map(({ w }) => w.ref);
      expect([...new Set(clients)].sort(), `${at}: workloads with a REDIS_URL`).to.deep.equal(allowed.map((w) => w.ref).sort());
      const redisPort = portOf(redis.template.spec!.containers[0]!, 'redis');
      expect((rule.ports ?? []).map((p) => [p.protocol ?? 'TCP', p.port]), `${at}: ports`).to.deep.equal([['TCP', redisPort]]);
      expect(redisPort, `${redis.ref}: container port redis`).to.equal(6379);
    });
  });
});
