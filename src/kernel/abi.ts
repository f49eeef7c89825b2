/**
 * The WASI preview1 ABI: numeric constants and struct layouts, exactly as the
 * `wasi_snapshot_preview1` witx defines them. Nothing here has behaviour.
 */

export const WASI_MODULE = 'wasi_snapshot_preview1';

/** errno values (u16). */
export const Errno = {
  SUCCESS: 0, TOOBIG: 1, ACCES: 2, ADDRINUSE: 3, ADDRNOTAVAIL: 4, AFNOSUPPORT: 5, AGAIN: 6,
  ALREADY: 7, BADF: 8, BADMSG: 9, BUSY: 10, CANCELED: 11, CHILD: 12, CONNABORTED: 13,
  CONNREFUSED: 14, CONNRESET: 15, DEADLK: 16, DESTADDRREQ: 17, DOM: 18, DQUOT: 19, EXIST: 20,
  FAULT: 21, FBIG: 22, HOSTUNREACH: 23, IDRM: 24, ILSEQ: 25, INPROGRESS: 26, INTR: 27,
  INVAL: 28, IO: 29, ISCONN: 30, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34, MSGSIZE: 35,
  MULTIHOP: 36, NAMETOOLONG: 37, NETDOWN: 38, NETRESET: 39, NETUNREACH: 40, NFILE: 41,
  NOBUFS: 42, NODEV: 43, NOENT: 44, NOEXEC: 45, NOLCK: 46, NOLINK: 47, NOMEM: 48, NOMSG: 49,
  NOPROTOOPT: 50, NOSPC: 51, NOSYS: 52, NOTCONN: 53, NOTDIR: 54, NOTEMPTY: 55,
  NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58, NOTTY: 59, NXIO: 60, OVERFLOW: 61,
  OWNERDEAD: 62, PERM: 63, PIPE: 64, PROTO: 65, PROTONOSUPPORT: 66, PROTOTYPE: 67, RANGE: 68,
  ROFS: 69, SPIPE: 70, SRCH: 71, STALE: 72, TIMEDOUT: 73, TXTBSY: 74, XDEV: 75,
  NOTCAPABLE: 76,
} as const;
export type Errno = (typeof Errno)[keyof typeof Errno];

/** filetype (u8). */
export const FileType = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;
export type FileType = (typeof FileType)[keyof typeof FileType];

/** rights (u64 bit flags). */
export const Rights = {
  FD_DATASYNC: 1n << 0n,
  FD_READ: 1n << 1n,
  FD_SEEK: 1n << 2n,
  FD_FDSTAT_SET_FLAGS: 1n << 3n,
  FD_SYNC: 1n << 4n,
  FD_TELL: 1n << 5n,
  FD_WRITE: 1n << 6n,
  FD_ADVISE: 1n << 7n,
  FD_ALLOCATE: 1n << 8n,
  PATH_CREATE_DIRECTORY: 1n << 9n,
  PATH_CREATE_FILE: 1n << 10n,
  PATH_LINK_SOURCE: 1n << 11n,
  PATH_LINK_TARGET: 1n << 12n,
  PATH_OPEN: 1n << 13n,
  FD_READDIR: 1n << 14n,
  PATH_READLINK: 1n << 15n,
  PATH_RENAME_SOURCE: 1n << 16n,
  PATH_RENAME_TARGET: 1n << 17n,
  PATH_FILESTAT_GET: 1n << 18n,
  PATH_FILESTAT_SET_SIZE: 1n << 19n,
  PATH_FILESTAT_SET_TIMES: 1n << 20n,
  FD_FILESTAT_GET: 1n << 21n,
  FD_FILESTAT_SET_SIZE: 1n << 22n,
  FD_FILESTAT_SET_TIMES: 1n << 23n,
  PATH_SYMLINK: 1n << 24n,
  PATH_REMOVE_DIRECTORY: 1n << 25n,
  PATH_UNLINK_FILE: 1n << 26n,
  POLL_FD_READWRITE: 1n << 27n,
  SOCK_SHUTDOWN: 1n << 28n,
  SOCK_ACCEPT: 1n << 29n,
} as const;

/** Every right defined by preview1. */
export const RIGHTS_ALL = (1n << 30n) - 1n;

/** Rights that make sense on a regular file. */
export const RIGHTS_FILE =
  Rights.FD_DATASYNC | Rights.FD_READ | Rights.FD_SEEK | Rights.FD_FDSTAT_SET_FLAGS |
  Rights.FD_SYNC | Rights.FD_TELL | Rights.FD_WRITE | Rights.FD_ADVISE | Rights.FD_ALLOCATE |
  Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_SIZE | Rights.FD_FILESTAT_SET_TIMES |
  Rights.POLL_FD_READWRITE;

/** Rights that make sense on a directory (for the directory itself). */
export const RIGHTS_DIR =
  Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_SYNC | Rights.FD_ADVISE | Rights.PATH_CREATE_DIRECTORY |
  Rights.PATH_CREATE_FILE | Rights.PATH_LINK_SOURCE | Rights.PATH_LINK_TARGET | Rights.PATH_OPEN |
  Rights.FD_READDIR | Rights.PATH_READLINK | Rights.PATH_RENAME_SOURCE |
  Rights.PATH_RENAME_TARGET | Rights.PATH_FILESTAT_GET | Rights.PATH_FILESTAT_SET_SIZE |
  Rights.PATH_FILESTAT_SET_TIMES | Rights.FD_FILESTAT_GET | Rights.FD_FILESTAT_SET_TIMES |
  Rights.PATH_SYMLINK | Rights.PATH_REMOVE_DIRECTORY | Rights.PATH_UNLINK_FILE |
  Rights.FD_DATASYNC;

/** Rights a directory hands down to what is opened beneath it. */
export const RIGHTS_DIR_INHERITING = RIGHTS_DIR | RIGHTS_FILE;

/** Rights of the stdio character devices and of pipes. */
export const RIGHTS_STDIO =
  Rights.FD_READ | Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET |
  Rights.POLL_FD_READWRITE;

/** Rights of a stream socket. */
export const RIGHTS_SOCKET =
  Rights.FD_READ | Rights.FD_WRITE | Rights.FD_FDSTAT_SET_FLAGS | Rights.FD_FILESTAT_GET |
  Rights.POLL_FD_READWRITE | Rights.SOCK_SHUTDOWN | Rights.SOCK_ACCEPT;

/** fdflags (u16). */
export const FdFlags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const FDFLAGS_ALL = 31;

/** oflags (u16). */
export const OFlags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const OFLAGS_ALL = 15;

/** lookupflags (u32). */
export const LookupFlags = { SYMLINK_FOLLOW: 1 } as const;

/** fstflags (u16). */
export const FstFlags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
export const FSTFLAGS_ALL = 15;

/** whence (u8). */
export const Whence = { SET: 0, CUR: 1, END: 2 } as const;

/** advice (u8). */
export const Advice = { NORMAL: 0, SEQUENTIAL: 1, RANDOM: 2, WILLNEED: 3, DONTNEED: 4, NOREUSE: 5 } as const;

/** clockid (u32). */
export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3 } as const;

/** eventtype (u8). */
export const EventType = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;

/** subclockflags (u16). */
export const SubclockFlags = { ABSTIME: 1 } as const;

/** eventrwflags (u16). */
export const EventRwFlags = { FD_READWRITE_HANGUP: 1 } as const;

/** riflags (u16), roflags (u16), siflags (u16), sdflags (u8). */
export const RiFlags = { RECV_PEEK: 1, RECV_WAITALL: 2 } as const;
export const RoFlags = { RECV_DATA_TRUNCATED: 1 } as const;
export const SdFlags = { RD: 1, WR: 2 } as const;

/** preopentype (u8). */
export const PreopenType = { DIR: 0 } as const;

/** signal (u8): only the range matters to us; proc_raise is unsupported. */
export const SIGNAL_MAX = 30;

/** Struct sizes and field offsets (wasm32). */
export const Layout = {
  /** fdstat: filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16. */
  FDSTAT_SIZE: 24,
  /** filestat: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56. */
  FILESTAT_SIZE: 64,
  /** dirent: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20; name follows. */
  DIRENT_SIZE: 24,
  /** prestat: tag u8 @0, pr_name_len u32 @4. */
  PRESTAT_SIZE: 8,
  /** iovec / ciovec: buf u32 @0, buf_len u32 @4. */
  IOVEC_SIZE: 8,
  /** subscription: userdata u64 @0, tag u8 @8, union @16 (clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40; fd_readwrite: fd u32 @16). */
  SUBSCRIPTION_SIZE: 48,
  /** event: userdata u64 @0, error u16 @8, type u8 @10, fd_readwrite { nbytes u64 @16, flags u16 @24 }. */
  EVENT_SIZE: 32,
} as const;

/** wasm parameter kinds, for the import signature table below. */
type P = 'i32' | 'i64';

/**
 * Every function of `wasi_snapshot_preview1` with its parameter types; all return i32 (errno),
 * except proc_exit, which returns nothing. This is the single list the kernel, the image
 * validator and the completeness test are checked against.
 */
export const PREVIEW1_SIGNATURES: Readonly<Record<string, readonly P[]>> = {
  args_get: ['i32', 'i32'],
  args_sizes_get: ['i32', 'i32'],
  environ_get: ['i32', 'i32'],
  environ_sizes_get: ['i32', 'i32'],
  clock_res_get: ['i32', 'i32'],
  clock_time_get: ['i32', 'i64', 'i32'],
  fd_advise: ['i32', 'i64', 'i64', 'i32'],
  fd_allocate: ['i32', 'i64', 'i64'],
  fd_close: ['i32'],
  fd_datasync: ['i32'],
  fd_fdstat_get: ['i32', 'i32'],
  fd_fdstat_set_flags: ['i32', 'i32'],
  fd_fdstat_set_rights: ['i32', 'i64', 'i64'],
  fd_filestat_get: ['i32', 'i32'],
  fd_filestat_set_size: ['i32', 'i64'],
  fd_filestat_set_times: ['i32', 'i64', 'i64', 'i32'],
  fd_pread: ['i32', 'i32', 'i32', 'i64', 'i32'],
  fd_prestat_get: ['i32', 'i32'],
  fd_prestat_dir_name: ['i32', 'i32', 'i32'],
  fd_pwrite: ['i32', 'i32', 'i32', 'i64', 'i32'],
  fd_read: ['i32', 'i32', 'i32', 'i32'],
  fd_readdir: ['i32', 'i32', 'i32', 'i64', 'i32'],
  fd_renumber: ['i32', 'i32'],
  fd_seek: ['i32', 'i64', 'i32', 'i32'],
  fd_sync: ['i32'],
  fd_tell: ['i32', 'i32'],
  fd_write: ['i32', 'i32', 'i32', 'i32'],
  path_create_directory: ['i32', 'i32', 'i32'],
  path_filestat_get: ['i32', 'i32', 'i32', 'i32', 'i32'],
  path_filestat_set_times: ['i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32'],
  path_link: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_open: ['i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32', 'i32'],
  path_readlink: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_remove_directory: ['i32', 'i32', 'i32'],
  path_rename: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  path_symlink: ['i32', 'i32', 'i32', 'i32', 'i32'],
  path_unlink_file: ['i32', 'i32', 'i32'],
  poll_oneoff: ['i32', 'i32', 'i32', 'i32'],
  proc_exit: ['i32'],
  proc_raise: ['i32'],
  sched_yield: [],
  random_get: ['i32', 'i32'],
  sock_accept: ['i32', 'i32', 'i32'],
  sock_recv: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'],
  sock_send: ['i32', 'i32', 'i32', 'i32', 'i32'],
  sock_shutdown: ['i32', 'i32'],
};

export const PREVIEW1_FUNCTIONS: readonly string[] = Object.keys(PREVIEW1_SIGNATURES);
