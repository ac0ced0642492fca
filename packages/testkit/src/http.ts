/** The parts of an HTTP response tests assert on. */
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON when the content type is JSON (`application/json`, `application/problem+json`, ...), else the text. */
  body: T;
}

/**
 * `GET url` with Node's global fetch; the body is parsed as JSON when the response says it is
 * JSON, otherwise returned as text. Non-2xx statuses do not throw — assert on `status`.
 * The body type defaults to `any` for convenient assertions; pass `T` to be stricter.
 */
export async function getJson<T = any>(url: string | URL, init?: RequestInit): Promise<JsonResponse<T>> {
  const headers = new Headers(init?.headers);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  return readResponse<T>(await fetch(url, { ...init, method: init?.method ?? 'GET', headers }));
}

/**
 * `POST url` with a JSON body (stringified unless it is already a string, so tests can send
 * malformed JSON) and `content-type: application/json` unless `init.headers` sets one.
 * The response is read like {@link getJson}.
 */
export async function postJson<T = any>(
  url: string | URL,
  body: unknown,
  init?: RequestInit,
): Promise<JsonResponse<T>> {
  const headers = new Headers(init?.headers);
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return readResponse<T>(await fetch(url, { ...init, method: init?.method ?? 'POST', headers, body: payload }));
}

async function readResponse<T>(res: Response): Promise<JsonResponse<T>> {
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (/[/+]json\b/i.test(contentType)) {
    if (text === '') {
      body = undefined;
    } else {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new Error(
          `${res.url}: status ${res.status} says ${contentType} but the body is not JSON ` +
            `(${(err as Error).message}): ${text.slice(0, 500)}`,
        );
      }
    }
  }
  return { status: res.status, headers: res.headers, body: body as T };
}
