// A JSON API in TypeScript with routing, Workers-style: `export default { fetch }`.
// Each request runs in a fresh Nano-VM, so state lives in the request (or in a volume).
import { Router, json } from './router.ts';

interface Todo { id: number; title: string; done: boolean }

const TODOS: readonly Todo[] = [
  { id: 1, title: 'write the app', done: true },
  { id: 2, title: 'deploy it', done: false },
];

const router = new Router()
  .on('GET', '/todos', () => json(TODOS))
  .on('GET', '/todos/:id', (_req, { id }) => {
    const todo = TODOS.find((t) => t.id === Number(id));
    return todo === undefined ? json({ error: `no todo ${id}` }, 404) : json(todo);
  })
  .on('POST', '/todos', async (req) => {
    const input = (await req.json()) as Partial<Todo>;
    if (typeof input.title !== 'string' || input.title === '') return json({ error: 'title: expected a non-empty string' }, 400);
    const todo: Todo = { id: TODOS.length + 1, title: input.title, done: false };
    return json(todo, 201);
  });

export default {
  async fetch(request: Request, env: Record<string, string>): Promise<Response> {
    // The app is mounted at its route; route on the rest of the path.
    const path = new URL(request.url).pathname.replace(/^\/api-ts/, '') || '/';
    console.log(`${request.method} ${path}`); // the app's log (nanovisor logs api-ts)
    if (path === '/') return json({ api: env['API_NAME'] ?? 'unnamed', routes: ['GET /todos', 'GET /todos/:id', 'POST /todos'] });
    return router.handle(request, path);
  },
};
