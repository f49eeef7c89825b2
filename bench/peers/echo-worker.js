// The benchmark's echo app for workerd: the same answer as cgi-echo.c behind nanovisor's
// `/echo` route, "<METHOD> <PATH_INFO>?<QUERY_STRING>\n" followed by the request body.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    // `/sleep?sleep=MS` waits MS ms, then answers (the concurrency benchmark's sleeping app).
    if (url.pathname.startsWith('/sleep')) {
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get('sleep') ?? 0)));
      return new Response('slept\n', { headers: { 'content-type': 'text/plain' } });
    }
    const pathInfo = url.pathname.startsWith('/echo') ? url.pathname.slice(5) : url.pathname;
    const body = await request.text();
    return new Response(`${request.method} ${pathInfo}?${url.search.slice(1)}\n${body}`, {
      headers: { 'content-type': 'text/plain' },
    });
  },
};
