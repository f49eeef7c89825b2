/** The network switch: host-side sockets a guest reaches only as preopened descriptors. */
export { listenTcp, parseListenAddress, type TcpListener } from './tcp.ts';
