/**
 * The shards' system-call filter: a small classic-BPF deny-list for seccomp, built here in
 * TypeScript (no libseccomp) and handed to bubblewrap (`--seccomp FD`), which installs it
 * just before it executes the shard's Node. Everything a Node process needs is allowed; what
 * is denied is kernel surface a shard never uses and an attacker who took over the process
 * would reach for: debugging other processes, mounts and namespaces, kernel modules and
 * kexec, eBPF, perf, keyrings, io_uring, userfaultfd, clocks and host names.
 *
 * The program checks the architecture first (a call made through another ABI, such as i386
 * `int 0x80` or x32 on x86-64, kills the process: its numbers mean other calls), then each
 * denied number, then `clone` with a namespace flag. See docs/security.md.
 */

/** `struct seccomp_data` offsets. */
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16; // args[0], low 32 bits (both supported architectures are little-endian)

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number) => 0x00050000 | (errno & 0xffff);
const EPERM = 1;
const ENOSYS = 38;

/** clone() flags that create namespaces (CLONE_NEWNS ... CLONE_NEWNET; CLONE_NEWTIME shares CSIGNAL's bits, clone() refuses it anyway). */
const CLONE_NEW_MASK = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** Denied calls and the errno they get. ENOSYS where libc or libuv fall back on it (clone3 → clone, io_uring → epoll). */
export const DENIED: Readonly<Record<string, 'EPERM' | 'ENOSYS'>> = {
  ptrace: 'EPERM', process_vm_readv: 'EPERM', process_vm_writev: 'EPERM', kcmp: 'EPERM', pidfd_getfd: 'EPERM',
  mount: 'EPERM', umount2: 'EPERM', pivot_root: 'EPERM', chroot: 'EPERM', move_mount: 'EPERM', open_tree: 'EPERM',
  fsopen: 'EPERM', fsconfig: 'EPERM', fsmount: 'EPERM', fspick: 'EPERM', mount_setattr: 'EPERM',
  unshare: 'EPERM', setns: 'EPERM', clone3: 'ENOSYS',
  kexec_load: 'EPERM', kexec_file_load: 'EPERM', reboot: 'EPERM', init_module: 'EPERM', finit_module: 'EPERM', delete_module: 'EPERM',
  bpf: 'EPERM', perf_event_open: 'EPERM', userfaultfd: 'EPERM', fanotify_init: 'EPERM',
  keyctl: 'EPERM', add_key: 'EPERM', request_key: 'EPERM',
  io_uring_setup: 'ENOSYS', io_uring_enter: 'ENOSYS', io_uring_register: 'ENOSYS',
  acct: 'EPERM', swapon: 'EPERM', swapoff: 'EPERM', syslog: 'EPERM', quotactl: 'EPERM', quotactl_fd: 'EPERM',
  settimeofday: 'EPERM', clock_settime: 'EPERM', clock_adjtime: 'EPERM', adjtimex: 'EPERM',
  sethostname: 'EPERM', setdomainname: 'EPERM', personality: 'EPERM', vhangup: 'EPERM',
  lookup_dcookie: 'EPERM', name_to_handle_at: 'EPERM', open_by_handle_at: 'EPERM',
  iopl: 'EPERM', ioperm: 'EPERM', uselib: 'EPERM', _sysctl: 'EPERM', ustat: 'EPERM', sysfs: 'EPERM', nfsservctl: 'EPERM',
};

interface ArchTable {
  /** AUDIT_ARCH_* of the native ABI. */
  audit: number;
  /** Numbers at or above this belong to another ABI on the same architecture (x32); 0 if none. */
  foreignFrom: number;
  numbers: Readonly<Record<string, number>>;
}

/** From linux/unistd_64.h (x86-64) and asm-generic/unistd.h (arm64); calls an architecture lacks are absent. */
const ARCHES: Readonly<Record<string, ArchTable>> = {
  x64: {
    audit: 0xc000003e,
    foreignFrom: 0x40000000,
    numbers: {
      clone: 56, ptrace: 101, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312, pidfd_getfd: 438,
      mount: 165, umount2: 166, pivot_root: 155, chroot: 161, move_mount: 429, open_tree: 428,
      fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      unshare: 272, setns: 308, clone3: 435,
      kexec_load: 246, kexec_file_load: 320, reboot: 169, init_module: 175, finit_module: 313, delete_module: 176,
      bpf: 321, perf_event_open: 298, userfaultfd: 323, fanotify_init: 300,
      keyctl: 250, add_key: 248, request_key: 249,
      io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
      acct: 163, swapon: 167, swapoff: 168, syslog: 103, quotactl: 179, quotactl_fd: 443,
      settimeofday: 164, clock_settime: 227, clock_adjtime: 305, adjtimex: 159,
      sethostname: 170, setdomainname: 171, personality: 135, vhangup: 153,
      lookup_dcookie: 212, name_to_handle_at: 303, open_by_handle_at: 304,
      iopl: 172, ioperm: 173, uselib: 134, _sysctl: 156, ustat: 136, sysfs: 139, nfsservctl: 180,
    },
  },
  arm64: {
    audit: 0xc00000b7,
    foreignFrom: 0,
    numbers: {
      clone: 220, ptrace: 117, process_vm_readv: 270, process_vm_writev: 271, kcmp: 272, pidfd_getfd: 438,
      mount: 40, umount2: 39, pivot_root: 41, chroot: 51, move_mount: 429, open_tree: 428,
      fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      unshare: 97, setns: 268, clone3: 435,
      kexec_load: 104, kexec_file_load: 294, reboot: 142, init_module: 105, finit_module: 273, delete_module: 106,
      bpf: 280, perf_event_open: 241, userfaultfd: 282, fanotify_init: 262,
      keyctl: 219, add_key: 217, request_key: 218,
      io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
      acct: 89, swapon: 224, swapoff: 225, syslog: 116, quotactl: 60, quotactl_fd: 443,
      settimeofday: 170, clock_settime: 112, clock_adjtime: 266, adjtimex: 171,
      sethostname: 161, setdomainname: 162, personality: 92, vhangup: 58,
      lookup_dcookie: 18, name_to_handle_at: 264, open_by_handle_at: 265, nfsservctl: 42,
    },
  },
};

/**
 * The filter for a Node `process.arch`, as the bytes of a `struct sock_filter` array (what
 * `bwrap --seccomp FD` reads); undefined for an architecture without a table here.
 *
 * @example
 * const bpf = seccompFilter(process.arch); // 8 bytes per instruction
 */
export function seccompFilter(arch: string): Uint8Array | undefined {
  const table = ARCHES[arch];
  if (table === undefined) return undefined;
  const prog: Array<[code: number, jt: number, jf: number, k: number]> = [];
  prog.push([LD_W_ABS, 0, 0, ARCH]);
  prog.push([JEQ_K, 1, 0, table.audit]);
  prog.push([RET_K, 0, 0, RET_KILL_PROCESS]);
  prog.push([LD_W_ABS, 0, 0, NR]);
  if (table.foreignFrom !== 0) {
    prog.push([JGE_K, 0, 1, table.foreignFrom]);
    prog.push([RET_K, 0, 0, RET_KILL_PROCESS]);
  }
  for (const [name, errno] of Object.entries(DENIED)) {
    const nr = table.numbers[name];
    if (nr === undefined) continue;
    prog.push([JEQ_K, 0, 1, nr]);
    prog.push([RET_K, 0, 0, retErrno(errno === 'EPERM' ? EPERM : ENOSYS)]);
  }
  // clone(flags, ...) with a namespace flag; threads and plain forks pass.
  prog.push([JEQ_K, 0, 3, table.numbers['clone']!]);
  prog.push([LD_W_ABS, 0, 0, ARG0_LOW]);
  prog.push([JSET_K, 0, 1, CLONE_NEW_MASK]);
  prog.push([RET_K, 0, 0, retErrno(EPERM)]);
  prog.push([RET_K, 0, 0, RET_ALLOW]);
  const bytes = new Uint8Array(prog.length * 8);
  const view = new DataView(bytes.buffer);
  prog.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return bytes;
}
