/** The network switch: host-side sockets a guest reaches only as preopened descriptors, and the HTTP switch every outbound call goes through. */
export { listenTcp, parseListenAddress, type TcpListener } from './tcp.ts';
export { AddressPolicy, parseCidr, ownAddresses, type Cidr } from './http/addresses.ts';
export { HttpSwitch, OutboundSession, splitAuthority, type HttpSwitchOptions, type Resolve, type SessionInfo } from './http/switch.ts';
