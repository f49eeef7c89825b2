// The benchmark's echo app for workerd: the same answer as cgi-echo.c behind nanovisor's
// `/echo` route, "<METHOD> <PATH_INFO>?<QUERY_STRING>\n" followed by the request body.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const pathInfo = url.pathname.startsWith('/echo') ? url.pathname.slice(5) : url.pathname;
    const body = await request.text();
    return new Response(`${request.method} ${pathInfo}?${url.search.slice(1)}\n${body}`, {
      headers: { 'content-type': 'text/plain' },
    });
  },
};
