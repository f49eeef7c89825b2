// Raw wasi_snapshot_preview1 imports with every pointer and length as a plain integer, so
// hostile test programs can pass wild pointers and huge lengths that the typed wasi-libc
// declarations would not let them write. Generated from PREVIEW1_SIGNATURES in src/kernel/abi.ts.
#ifndef NV_RAW_H
#define NV_RAW_H
#include <stdint.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_get"))) int32_t raw_args_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_sizes_get"))) int32_t raw_args_sizes_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("environ_get"))) int32_t raw_environ_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("environ_sizes_get"))) int32_t raw_environ_sizes_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("clock_res_get"))) int32_t raw_clock_res_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("clock_time_get"))) int32_t raw_clock_time_get(uint32_t a0, uint64_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_advise"))) int32_t raw_fd_advise(uint32_t a0, uint64_t a1, uint64_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_allocate"))) int32_t raw_fd_allocate(uint32_t a0, uint64_t a1, uint64_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_close"))) int32_t raw_fd_close(uint32_t a0);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_datasync"))) int32_t raw_fd_datasync(uint32_t a0);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_get"))) int32_t raw_fd_fdstat_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_flags"))) int32_t raw_fd_fdstat_set_flags(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_fdstat_set_rights"))) int32_t raw_fd_fdstat_set_rights(uint32_t a0, uint64_t a1, uint64_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_filestat_get"))) int32_t raw_fd_filestat_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_filestat_set_size"))) int32_t raw_fd_filestat_set_size(uint32_t a0, uint64_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_filestat_set_times"))) int32_t raw_fd_filestat_set_times(uint32_t a0, uint64_t a1, uint64_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_pread"))) int32_t raw_fd_pread(uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_prestat_get"))) int32_t raw_fd_prestat_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_prestat_dir_name"))) int32_t raw_fd_prestat_dir_name(uint32_t a0, uint32_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_pwrite"))) int32_t raw_fd_pwrite(uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_read"))) int32_t raw_fd_read(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_readdir"))) int32_t raw_fd_readdir(uint32_t a0, uint32_t a1, uint32_t a2, uint64_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_renumber"))) int32_t raw_fd_renumber(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_seek"))) int32_t raw_fd_seek(uint32_t a0, uint64_t a1, uint32_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_sync"))) int32_t raw_fd_sync(uint32_t a0);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_tell"))) int32_t raw_fd_tell(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write"))) int32_t raw_fd_write(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_create_directory"))) int32_t raw_path_create_directory(uint32_t a0, uint32_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_filestat_get"))) int32_t raw_path_filestat_get(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_filestat_set_times"))) int32_t raw_path_filestat_set_times(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint64_t a4, uint64_t a5, uint32_t a6);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_link"))) int32_t raw_path_link(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5, uint32_t a6);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_open"))) int32_t raw_path_open(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint64_t a5, uint64_t a6, uint32_t a7, uint32_t a8);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_readlink"))) int32_t raw_path_readlink(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_remove_directory"))) int32_t raw_path_remove_directory(uint32_t a0, uint32_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_rename"))) int32_t raw_path_rename(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_symlink"))) int32_t raw_path_symlink(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("path_unlink_file"))) int32_t raw_path_unlink_file(uint32_t a0, uint32_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("poll_oneoff"))) int32_t raw_poll_oneoff(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit"))) void raw_proc_exit(uint32_t a0);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) int32_t raw_proc_raise(uint32_t a0);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sched_yield"))) int32_t raw_sched_yield(void);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("random_get"))) int32_t raw_random_get(uint32_t a0, uint32_t a1);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_accept"))) int32_t raw_sock_accept(uint32_t a0, uint32_t a1, uint32_t a2);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_recv"))) int32_t raw_sock_recv(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_send"))) int32_t raw_sock_send(uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("sock_shutdown"))) int32_t raw_sock_shutdown(uint32_t a0, uint32_t a1);

#endif
