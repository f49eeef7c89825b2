// A wasi:http/proxy component in JavaScript that calls upstreams with fetch() (componentize-js):
// test/outbound-http.test.ts serves it through the daemon and the HTTP switch.
//   GET /get?url=U          -> "status S: BODY" of fetch(U), or 502 "refused: ERROR"
//   GET /many?url=U&n=N     -> fetches U N times in a row; "ok K" or 502 "refused after K: ERROR"
//   POST /post?url=U        -> posts the request body to U, answers what U answered
//   GET /redirect?url=U     -> fetch(U) with redirect "manual": "status S location L"
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
    case '/redirect':
      try {
        const r = await fetch(target, { redirect: 'manual' });
        return new Response(`status ${r.status} location ${r.headers.get('location')}`);
      } catch (e) {
        return new Response(`refused: ${e}\n`, { status: 502 });
      }
    default:
      return new Response('not found\n', { status: 404 });
  }
}
