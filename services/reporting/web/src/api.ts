// The dashboard's calls to the reporting service: the bearer token from sign-in (kept in
// sessionStorage: gone when the tab closes), JSON in, problem+json errors out.

const TOKEN_KEY = 'park-dashboard-token';

export function token(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function setToken(value: string | undefined): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx, with the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${status}: ${detail}`);
  }
}

/** Called when the token is refused (missing, expired, forged): the page signs out. */
let onUnauthenticated: (detail: string) => void = () => undefined;
export function whenUnauthenticated(handler: (detail: string) => void): void {
  onUnauthenticated = handler;
}

export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) search.set(name, value);
  const url = search.size > 0 ? `${path}?${search}` : path;
  const bearer = token();
  const response = await fetch(url, {
    headers: {
      accept: 'application/json',
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = ((await response.json()) as { detail?: string }).detail ?? detail;
    } catch {
      // not problem+json
    }
    if (response.status === 401) onUnauthenticated(detail);
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    throw new ApiError(response.status, problem.detail ?? response.statusText);
  }
  return (await response.json()) as T;
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not permitted: ${error.detail}`;
    if (error.status === 404) return `Not found: ${error.detail}`;
    if (error.status === 503) return `Unavailable: ${error.detail}`;
    return `The service answered ${error.status}: ${error.detail}`;
  }
  return error instanceof Error ? error.message : String(error);
}
