// A wasi:http/proxy component in JavaScript that keeps state between requests if its VM
// were ever reused without a reset (test/components-pool.test.ts):
//   GET /put?s=SECRET -> stores SECRET in a global, a module variable and a typed array
//                        (the engine's heap, i.e. guest memory), then answers "stored"
//   GET /peek         -> what it finds of earlier requests: "count=N global=... module=... bytes=..."
//   GET /spin         -> never answers (a loop without end: the VM's time limit stops it)
let moduleSecret = 'none';
let count = 0;
let buffer = new Uint8Array(0);
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const url = new URL(request.url);
  count++;
  if (url.pathname === '/spin') {
    for (;;) count++;
  }
  if (url.pathname === '/put') {
    const secret = url.searchParams.get('s') ?? '';
    globalThis.secret = secret;
    moduleSecret = secret;
    buffer = new TextEncoder().encode(secret.repeat(64));
    return new Response('stored\n');
  }
  const bytes = buffer.length === 0 ? 'none' : new TextDecoder().decode(buffer.subarray(0, 16));
  return new Response(`count=${count} global=${globalThis.secret ?? 'none'} module=${moduleSecret} bytes=${bytes}\n`);
}
