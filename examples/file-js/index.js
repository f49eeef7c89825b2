// Serves the files sealed into its image under /srv: GET /file-js/greeting.txt.
import { readFile } from './files.js';

addEventListener('fetch', (event) => {
  const name = new URL(event.request.url).pathname.replace(/^\/file-js\/?/, '');
  if (name === '' || name.split('/').includes('..')) {
    event.respondWith(new Response('give a file name, e.g. /file-js/greeting.txt\n', { status: 400 }));
    return;
  }
  const bytes = readFile(`/srv/${name}`);
  event.respondWith(bytes === undefined
    ? new Response(`no file /srv/${name}\n`, { status: 404 })
    : new Response(bytes, { headers: { 'content-type': name.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream' } }));
});
