/**
 * The only ways a system call unwinds the guest instead of returning an errno:
 * the guest asked to exit, or the host stops the VM for exceeding a limit.
 */

/** Thrown by proc_exit to unwind the guest; carries the exit code. */
export class ProcExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`proc_exit(${exitCode})`);
    this.exitCode = exitCode;
  }
}

/** Thrown by the kernel to stop a VM for a host-side reason (limits). */
export class VmStop extends Error {
  readonly reason: 'output-limit' | 'timeout';
  constructor(reason: 'output-limit' | 'timeout', message: string) {
    super(message);
    this.reason = reason;
  }
}
