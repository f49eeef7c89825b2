// The smallest JavaScript app: a fetch event listener, as in a service worker.
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  event.respondWith(new Response(`hello from JavaScript at ${url.pathname}\n`, {
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  }));
});
