;; A command module importing a WASI function that does not exist: k23sim
;; must refuse to instantiate it with one line naming the import, exit 1.
(module
  (import "wasi_snapshot_preview1" "no_such_function" (func $missing (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (call $missing (i32.const 0)))))
