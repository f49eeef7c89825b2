/**
 * Peer: Node's own `node:wasi` with a new WASI + WebAssembly.Instance per request, serving
 * the same CGI echo wasm through a plain node:http server (listening socket on fd 3). The
 * CGI mapping is nanovisor's (src/gateway/cgi.ts) so both do the same work. node:wasi only
 * does stdio on host descriptors, so each request's stdin and stdout are files in /dev/shm
 * (tmpfs), opened and closed per request.
 *
 * Usage: node --no-warnings bench/peers/node-wasi-server.ts ECHO.wasm
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { WASI } from 'node:wasi';
import { cgiEnv, parseCgiResponse } from '../../src/gateway/cgi.ts';

const module = new WebAssembly.Module(readFileSync(process.argv[2]!));
const dir = existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
const inPath = `${dir}/nv-bench-wasi-${process.pid}.in`;
const outPath = `${dir}/nv-bench-wasi-${process.pid}.out`;
const devNull = openSync('/dev/null', 'w');
process.on('exit', () => {
  rmSync(inPath, { force: true });
  rmSync(outPath, { force: true });
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    try {
      const env = cgiEnv({
        method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress ?? '',
        serverName: '127.0.0.1', serverPort: req.socket.localPort ?? 0, protocol: `HTTP/${req.httpVersion}`, route: '/echo',
        contentLength: body.length,
      });
      const inFd = openSync(inPath, 'w+');
      writeSync(inFd, body, 0, body.length, 0);
      closeSync(inFd);
      const stdin = openSync(inPath, 'r');
      const stdout = openSync(outPath, 'w+');
      try {
        const wasi = new WASI({ version: 'preview1', args: ['echo'], env, stdin, stdout, stderr: devNull, returnOnExit: true });
        const instance = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
        const code = wasi.start(instance);
        if (code !== 0) throw new Error(`exit ${code}`);
      } finally {
        closeSync(stdin);
        closeSync(stdout);
      }
      const cgi = parseCgiResponse(readFileSync(outPath));
      const headers: string[] = [];
      for (const [k, v] of cgi.headers) headers.push(k, v);
      headers.push('content-length', String(cgi.body.length));
      res.writeHead(cgi.status, headers);
      res.end(cgi.body);
    } catch (e) {
      res.writeHead(502);
      res.end(String(e));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });
