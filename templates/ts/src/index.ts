// An HTTP handler in TypeScript, Workers-style. Each request runs in a fresh Nano-VM.
// `nanovisor build` bundles it with esbuild: no compile step of your own, and relative
// imports and packages of node_modules/ work. See docs/javascript.md.
import { greeting } from './greeting.ts';

export interface Env {
  APP_NAME: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    const body = await request.text();
    return new Response(`${greeting(env.APP_NAME)}: ${request.method} ${pathname}\nyou sent: ${body}\n`, {
      headers: { 'content-type': 'text/plain' },
    });
  },
};
