;; A module without _start (a library, or a reactor): nothing to run.
(module
  (memory (export "memory") 1)
  (func (export "main") (result i32)
    (i32.const 0)))
