// The benchmark's JS hello for workerd; bench/peers/hello-component.js is the same handler
// for nanovisor.
export default {
  fetch() {
    return new Response('hello from js\n', { headers: { 'content-type': 'text/plain' } });
  },
};
