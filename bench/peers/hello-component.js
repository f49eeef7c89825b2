// The benchmark's JS hello for nanovisor (a componentize-js wasi:http component, fetch event);
// bench/peers/hello-worker.js is the same handler for workerd.
addEventListener('fetch', (event) => event.respondWith(
  new Response('hello from js\n', { headers: { 'content-type': 'text/plain' } }),
));
