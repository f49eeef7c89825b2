// sock_*: the errno cases a guest without a listener can reach. Real connections are tested
// end to end with net_echo_server in test/network.test.ts.
import { test } from 'node:test';
import { passes } from '../helpers.ts';

for (const name of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown']) {
  test(`${name}: ENOTSOCK on non-sockets, EBADF on closed fds`, async () => {
    await passes(name);
  });
}
