;; A module whose start section never returns: instantiating it runs guest code before any
;; export is called. The host's time limit must stop it there too (test/limits.test.ts).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "_start") (call $proc_exit (i32.const 0))))
