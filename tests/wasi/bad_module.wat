;; A command module importing from a module that is not there.
(module
  (import "env" "host_magic" (func $magic))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $magic)))
