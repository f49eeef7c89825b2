/**
 * How WASI 0.2 errors cross the canonical ABI: the jco glue turns a thrown value that is not
 * an `Error` into the function's `err` result, while an `Error` (ProcExit, VmStop, a host
 * bug) unwinds the guest. So guest mistakes are thrown as plain objects here, never as
 * Errors, and the preview1 kernel's GuestFault (an errno) is translated at this one place.
 */
import { Errno } from '../abi.ts';
import { GuestFault } from '../memory.ts';

/** wasi:filesystem/types error-code, by preview1 errno. */
const FS_CODES: Partial<Record<number, string>> = {
  [Errno.ACCES]: 'access', [Errno.AGAIN]: 'would-block', [Errno.ALREADY]: 'already', [Errno.BADF]: 'bad-descriptor',
  [Errno.BUSY]: 'busy', [Errno.DEADLK]: 'deadlock', [Errno.DQUOT]: 'quota', [Errno.EXIST]: 'exist',
  [Errno.FBIG]: 'file-too-large', [Errno.ILSEQ]: 'illegal-byte-sequence', [Errno.INPROGRESS]: 'in-progress',
  [Errno.INTR]: 'interrupted', [Errno.INVAL]: 'invalid', [Errno.IO]: 'io', [Errno.ISDIR]: 'is-directory',
  [Errno.LOOP]: 'loop', [Errno.MLINK]: 'too-many-links', [Errno.MSGSIZE]: 'message-size',
  [Errno.NAMETOOLONG]: 'name-too-long', [Errno.NODEV]: 'no-device', [Errno.NOENT]: 'no-entry',
  [Errno.NOLCK]: 'no-lock', [Errno.NOMEM]: 'insufficient-memory', [Errno.NOSPC]: 'insufficient-space',
  [Errno.NOTDIR]: 'not-directory', [Errno.NOTEMPTY]: 'not-empty', [Errno.NOTRECOVERABLE]: 'not-recoverable',
  [Errno.NOTSUP]: 'unsupported', [Errno.NOSYS]: 'unsupported', [Errno.NOTTY]: 'no-tty', [Errno.NXIO]: 'no-such-device',
  [Errno.OVERFLOW]: 'overflow', [Errno.PERM]: 'not-permitted', [Errno.PIPE]: 'pipe', [Errno.ROFS]: 'read-only',
  [Errno.SPIPE]: 'invalid-seek', [Errno.TXTBSY]: 'text-file-busy', [Errno.XDEV]: 'cross-device',
  [Errno.NOTCAPABLE]: 'not-permitted', [Errno.MFILE]: 'insufficient-memory', [Errno.NFILE]: 'insufficient-memory',
};

export function fsErrorCode(errno: number): string {
  return FS_CODES[errno] ?? 'io';
}

/** The value the glue lowers as `err(code)`: a plain object with a payload, never an Error. */
export function guestError(payload: unknown): { payload: unknown } {
  return { payload };
}

/**
 * Runs a filesystem operation of the preview1 VFS; its errno becomes the 0.2 error-code.
 *
 * @example
 * openAt(...) { return fsCall(() => ops.openAt(dir, path, req)); }
 */
export function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GuestFault) throw guestError(fsErrorCode(e.errno));
    throw e;
  }
}
