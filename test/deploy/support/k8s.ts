// Renders a kustomization offline and checks objects the way the API server would: schema,
// unknown fields, label selection. For test/deploy/*.test.ts; needs only kubectl, no cluster.
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

export type LabelSelector = NonNullable<IDeployment['spec']>['selector'];
export type PodTemplate = NonNullable<IDeployment['spec']>['template'];
export type PodSpec = NonNullable<PodTemplate['spec']>;
export type Container = PodSpec['containers'][number];

/** A rendered object; its fields are checked against the schema before anything reads them. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** "Kind/name", for assertion messages. */
export function ref(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/** `kubectl kustomize <dir>` parsed into objects; a missing kubectl is a clear failure, not a skip. */
export function renderKustomization(dir: string): K8sObject[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'kubectl is not on PATH: the manifests are rendered with `kubectl kustomize` (kubectl >= 1.27 ' +
        'bundles Kustomize v5). Install kubectl (no cluster needed) to run this test.',
    );
  }
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (exit ${result.status}):\n${result.stderr}`);
  const documents = parseAllDocuments(result.stdout);
  if (!Array.isArray(documents)) throw new Error(`kubectl kustomize ${dir} printed no YAML documents`);
  return documents.map((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`document ${i} of the rendered ${dir}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const object = doc.toJS() as K8sObject;
    if (!object?.apiVersion || !object.kind || !object.metadata?.name) {
      throw new Error(`document ${i} of the rendered ${dir} lacks apiVersion, kind or metadata.name`);
    }
    return object;
  });
}

type ModelClass = { new (data: never): { validate(): void }; prototype: { validate(): void } };

// Every kind the manifests may use. Another kind (a CRD, a typo) is an error until added here.
const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/Namespace', Namespace],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/PersistentVolumeClaim', PersistentVolumeClaim],
  ['apps/v1/Deployment', Deployment],
  ['apps/v1/StatefulSet', StatefulSet],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
]);

/**
 * Validates against the Kubernetes OpenAPI schema (kubernetes-models) and rejects fields the
 * schema does not know, as the API server's strict field validation (kubectl's default) does:
 * the generated validators ignore extra properties, so a misspelt `readOnlyRootFileSystem` would
 * otherwise pass. Throws an Error naming the object.
 */
export function validateObject(object: K8sObject): void {
  const model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  if (!model) {
    throw new Error(`${ref(object)}: unknown kind ${object.apiVersion}/${object.kind} (not a built-in kind this test knows)`);
  }
  try {
    new model(object as never).validate();
  } catch (err) {
    throw new Error(`${ref(object)} does not match the ${object.apiVersion} ${object.kind} schema: ${(err as Error).message}`);
  }
  const unknown = unknownFields(object, model);
  if (unknown.length > 0) throw new Error(`${ref(object)} has fields the ${object.kind} schema does not know: ${unknown.join(', ')}`);
}

// The validators read every property their schema names and iterate maps (labels, data,
// resources) key by key; a property they never read is one the schema does not have.
function unknownFields(object: K8sObject, model: ModelClass): string[] {
  const read = new WeakMap<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const track = (target: object): object => {
    let proxy = proxies.get(target);
    if (!proxy) {
      read.set(target, new Set());
      proxy = new Proxy(target, {
        get(t, key, receiver) {
          read.get(t)?.add(key);
          const value: unknown = Reflect.get(t, key, receiver);
          return value !== null && typeof value === 'object' ? track(value) : value;
        },
        getOwnPropertyDescriptor(t, key) {
          read.get(t)?.add(key);
          return Reflect.getOwnPropertyDescriptor(t, key);
        },
      });
      proxies.set(target, proxy);
    }
    return proxy;
  };
  model.prototype.validate.call(track(object));

  const unknown: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`));
      return;
    }
    const seen = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (!seen?.has(key)) unknown.push(at);
      else walk(child, at);
    }
  };
  walk(object, '');
  return unknown;
}

/** LabelSelector semantics: matchLabels AND every matchExpression; `{}` selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => have[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in have && values.includes(have[key] as string);
      case 'NotIn':
        return !(key in have) || !values.includes(have[key] as string);
      case 'Exists':
        return key in have;
      case 'DoesNotExist':
        return !(key in have);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}

/** A Service's selector (a plain map): selects only when non-empty and every pair matches. */
export function serviceSelects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return !!selector && Object.keys(selector).length > 0 && selects({ matchLabels: selector }, labels);
}

/** A resource quantity in base units (cores, bytes): "100m" → 0.1, "128Mi" → 134217728. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported quantity ${quantity}`);
  const factor: Record<string, number> = {
    m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? (factor[match[2]] as number) : 1);
}

/** Seconds a preStop hook waits: the built-in sleep action or an exec of `sleep N`; 0 without one. */
export function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = (preStop.exec?.command ?? []).join(' ');
  const sleep = /\bsleep\s+(\d+)/.exec(command);
  if (sleep) return Number(sleep[1]);
  throw new Error(`${container.name}: preStop hook of unknown duration (${JSON.stringify(preStop)})`);
}
