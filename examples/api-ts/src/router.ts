// A tiny router: METHOD + path pattern (":name" segments) -> handler.
export type Params = Record<string, string>;
export type Handler = (request: Request, params: Params) => Response | Promise<Response>;

interface Route { method: string; parts: string[]; handler: Handler }

export class Router {
  readonly #routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, parts: pattern.split('/').filter((p) => p !== ''), handler });
    return this;
  }

  async handle(request: Request, path: string): Promise<Response> {
    const segments = path.split('/').filter((p) => p !== '');
    let pathMatched = false;
    for (const r of this.#routes) {
      const params = match(r.parts, segments);
      if (params === undefined) continue;
      pathMatched = true;
      if (r.method === request.method) return r.handler(request, params);
    }
    return pathMatched ? json({ error: 'method not allowed' }, 405) : json({ error: 'not found', path }, 404);
  }
}

function match(parts: string[], segments: string[]): Params | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(segments[i]!);
    else if (p !== segments[i]) return undefined;
  }
  return params;
}

export function json(body: unknown, status = 200): Response {
  return new Response(`${JSON.stringify(body)}\n`, { status, headers: { 'content-type': 'application/json' } });
}
