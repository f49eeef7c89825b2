/** All system-call families merged into one table keyed by preview1 function name. */
import type { Syscall } from '../kernel.ts';
import { argsCalls } from './args.ts';
import { clockCalls } from './clock.ts';
import { fdCalls } from './fd.ts';
import { pathCalls } from './path.ts';
import { pollCalls } from './poll.ts';
import { procCalls } from './proc.ts';
import { randomCalls } from './random.ts';
import { sockCalls } from './sock.ts';

export const SYSCALLS: Readonly<Record<string, Syscall>> = {
  ...argsCalls,
  ...clockCalls,
  ...fdCalls,
  ...pathCalls,
  ...pollCalls,
  ...procCalls,
  ...randomCalls,
  ...sockCalls,
} as unknown as Record<string, Syscall>;

export { UNSUPPORTED } from './unsupported.ts';
