/**
 * Peer: a new OS process per request. A plain node:http server (listening socket on fd 3)
 * spawns the native build of the same CGI echo (gcc) for every request, with the CGI
 * variables from nanovisor's own mapping (src/gateway/cgi.ts), the body on stdin, and
 * parses its stdout.
 *
 * Usage: node bench/peers/process-server.ts ECHO-NATIVE
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cgiEnv, parseCgiResponse } from '../../src/gateway/cgi.ts';

const exe = process.argv[2]!;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const fail = (e: unknown) => {
      if (res.headersSent) return;
      res.writeHead(502);
      res.end(String(e));
    };
    try {
      const env = cgiEnv({
        method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress ?? '',
        serverName: '127.0.0.1', serverPort: req.socket.localPort ?? 0, protocol: `HTTP/${req.httpVersion}`, route: '/echo',
        contentLength: body.length,
      });
      const child = spawn(exe, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.on('error', fail);
      child.stdin.on('error', () => {});
      child.on('close', (code) => {
        try {
          if (code !== 0) throw new Error(`exit ${code}`);
          const cgi = parseCgiResponse(Buffer.concat(out));
          const headers: string[] = [];
          for (const [k, v] of cgi.headers) headers.push(k, v);
          headers.push('content-length', String(cgi.body.length));
          res.writeHead(cgi.status, headers);
          res.end(cgi.body);
        } catch (e) {
          fail(e);
        }
      });
      child.stdin.end(body);
    } catch (e) {
      fail(e);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });
