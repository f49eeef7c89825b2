// Calls an upstream API with fetch() and passes on what it says. The upstream is the app's
// UPSTREAM_URL (manifest env, or `nanovisor deploy --env UPSTREAM_URL=...`). Outbound calls
// go through the host's network switch: default deny, the manifest's `outbound.allow` lists
// what the app may call (here a local upstream on 127.0.0.1, which the operator must also
// allow, loopback being refused otherwise). A refused call rejects fetch(), and the app
// answers 502 saying so.
export default {
  async fetch(request, env) {
    const upstream = env.UPSTREAM_URL;
    if (upstream === undefined || upstream === '') return new Response('UPSTREAM_URL is not set\n', { status: 500 });
    let reply;
    try {
      reply = await fetch(upstream, { headers: { accept: 'application/json' } });
    } catch (e) {
      return Response.json({ error: 'upstream call refused or failed', upstream, reason: String(e) }, { status: 502 });
    }
    const body = await reply.text();
    return Response.json({ upstream, status: reply.status, body });
  },
};
