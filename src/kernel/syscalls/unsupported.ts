/**
 * Every preview1 function nanovisor answers with ENOSYS/ENOTSUP on purpose, and why.
 * The completeness test checks that nothing else is unimplemented.
 */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  proc_raise: 'ENOSYS: a Nano-VM has no signals; preview1 lets hosts leave this out, and wasi-libc no longer calls it.',
};
