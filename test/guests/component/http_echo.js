// A wasi:http/proxy component in JavaScript (componentize-js, fetch event): the host test
// (test/components-http.test.ts) serves it through the daemon over real sockets.
//   GET  /hello     -> text with method, path and query
//   POST /echo      -> the request body back, with its content-type and length in headers
//   GET  /json      -> a JSON document
//   GET  /big       -> 200 KiB in many chunks
//   GET  /status    -> 404 with a custom header
//   GET  /fetch     -> tries an outbound fetch (denied: default deny)
addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const url = new URL(request.url);
  switch (url.pathname.replace(/^\/js/, '')) {
    case '/hello':
      return new Response(`hello from js ${request.method} ${url.pathname}${url.search}\n`, { headers: { 'content-type': 'text/plain' } });
    case '/echo': {
      const body = await request.text();
      return new Response(body, { headers: { 'x-echo-type': request.headers.get('content-type') ?? '', 'x-echo-length': String(body.length) } });
    }
    case '/json':
      return Response.json({ ok: true, items: [1, 2, 3], agent: request.headers.get('user-agent') });
    case '/big': {
      const chunk = 'x'.repeat(1024);
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 200; i++) c.enqueue(new TextEncoder().encode(chunk));
          c.close();
        },
      });
      return new Response(stream, { headers: { 'content-type': 'application/octet-stream' } });
    }
    case '/status':
      return new Response('nope\n', { status: 404, headers: { 'x-custom': 'yes' } });
    case '/fetch':
      try {
        const r = await fetch('http://127.0.0.1:1/');
        return new Response(`fetched ${r.status}\n`);
      } catch (e) {
        return new Response(`fetch refused: ${e}\n`, { status: 502 });
      }
    default:
      return new Response('not found\n', { status: 404 });
  }
}
