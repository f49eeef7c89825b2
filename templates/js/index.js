// An HTTP handler in JavaScript, Workers-style. Each request runs in a fresh Nano-VM.
// `env` holds the app's environment (manifest env, `nanovisor deploy --env`, secrets).
// See docs/javascript.md: fetch event listeners, imports, files, outbound fetch().
export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const body = await request.text();
    return new Response(`Hello from ${env.APP_NAME}: ${request.method} ${pathname}\nyou sent: ${body}\n`, {
      headers: { 'content-type': 'text/plain' },
    });
  },
};
