// A wasi:http/proxy component in JavaScript that calls upstreams with fetch() (componentize-js):
// test/outbound-http.test.ts serves it through the daemon and the HTTP switch.
//   GET /get?url=U          -> "status S: BODY" of fetch(U), or 502 "refused: ERROR"
//   GET /many?url=U&n=N     -> fetches U N times in a row; "ok K" or 502 "refused after K: ERROR"
//   POST /post?url=U        -> posts the request body to U, answers what U answered
//   GET /follow?url=U       -> fetch(U), following each 3xx Location itself (up to 5 hops)
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const url = new URL(request.url);
  const target = url.searchParams.get('url') ?? '';
  switch (url.pathname.replace(/^\/[^/]+(?=\/)/, '')) {
    case '/get':
      try {
        const r = await fetch(target);
        return new Response(`status ${r.status}: ${await r.text()}`);
      } catch (e) {
        return new Response(`refused: ${e}\n`, { status: 502 });
      }
    case '/many': {
      const n = Number(url.searchParams.get('n') ?? '1');
      let k = 0;
      try {
        for (; k < n; k++) await (await fetch(target)).text();
        return new Response(`ok ${k}`);
      } catch (e) {
        return new Response(`refused after ${k}: ${e}\n`, { status: 502 });
      }
    }
    case '/post':
      try {
        const r = await fetch(target, { method: 'POST', body: await request.text(), headers: { 'content-type': 'text/plain' } });
        return new Response(`status ${r.status}: ${await r.text()}`);
      } catch (e) {
        return new Response(`refused: ${e}\n`, { status: 502 });
      }
    case '/follow':
      try {
        let next = target;
        for (let hop = 0; hop < 5; hop++) {
          const r = await fetch(next);
          const location = r.headers.get('location');
          if (r.status < 300 || r.status > 399 || location === null) return new Response(`status ${r.status}: ${await r.text()}`);
          next = new URL(location, next).href;
        }
        return new Response('too many redirects\n', { status: 508 });
      } catch (e) {
        return new Response(`refused: ${e}\n`, { status: 502 });
      }
    default:
      return new Response('not found\n', { status: 404 });
  }
}
