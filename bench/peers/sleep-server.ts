/**
 * Peer for the concurrency benchmark: a bare Node HTTP server that answers every request
 * after waiting `?sleep=MS` ms on a timer, on the listening socket inherited as fd 3. What an
 * event loop that only waits can do: the ceiling for N requests in flight that each wait.
 *
 * Usage: node bench/peers/sleep-server.ts
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('sleep') ?? 0);
  req.resume();
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '6' });
    res.end('slept\n');
  }, ms);
});
server.keepAliveTimeout = 60_000;
server.listen({ fd: 3 });
process.on('SIGINT', () => process.exit(0));
