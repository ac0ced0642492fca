import type { ServerResponse } from 'node:http';

/** One offending field: `field` names it, `index` is its item in a batch, `pointer` is RFC 6901. */
export interface FieldError {
  readonly field: string;
  readonly index?: number;
  readonly pointer: string;
  readonly message: string;
}

/**
 * An error with an HTTP answer: sent as RFC 9457 application/problem+json. `type` is a stable
 * URN per kind of problem so that clients can branch on it.
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly title: string,
    readonly detail: string,
    readonly errors: readonly FieldError[] = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export function problemBody(problem: HttpProblem, instance?: string) {
  return {
    type: `urn:metrics-pipeline:problem:${problem.kind}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    ...(instance ? { instance } : {}),
    ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
  };
}

/** Writes the problem on a bare node:http response (the ingest path and Express share it). */
export function sendProblem(res: ServerResponse, problem: HttpProblem, instance?: string): void {
  const body = JSON.stringify(problemBody(problem, instance));
  res.writeHead(problem.status, {
    ...problem.headers,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

export const unavailable = (what: string) =>
  new HttpProblem(503, 'redis-unavailable', 'Service Unavailable', `${what}: Redis is not answering; retry shortly`, [], {
    'retry-after': '1',
  });
