;; A module of a few dozen bytes that declares 65,536 initial pages (4 GiB) of memory and
;; touches none of it. Building or preparing it must be refused at once when the memory limit
;; is smaller, and must not cost a scan of 4 GiB when the limit allows it (test/limits.test.ts).
(module
  (memory (export "memory") 65536)
  (func (export "_start")))
