;; A key-value store. `put`: the input is a 32-byte key then the value; stores it. `get`: the
;; input is a 32-byte key; outputs its value (empty when none is stored). `delete`: the input
;; is a 32-byte key; removes its value. A shorter input traps.
;;
;; Memory: the input at 0.., a value read back at 32768.. (at most 16 KiB).
(module
  (import "switchyard" "input_len" (func $input_len (result i32)))
  (import "switchyard" "input_read" (func $input_read (param i32)))
  (import "switchyard" "get" (func $get (param i32 i32 i32) (result i32)))
  (import "switchyard" "set" (func $set (param i32 i32 i32)))
  (import "switchyard" "remove" (func $remove (param i32)))
  (import "switchyard" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)

  ;; Reads the input to 0.. and returns its length; traps when it holds no key.
  (func $input (result i32)
    (local $len i32)
    (local.set $len (call $input_len))
    (if (i32.lt_u (local.get $len) (i32.const 32)) (then unreachable))
    (call $input_read (i32.const 0))
    (local.get $len))

  (func (export "put")
    (local $len i32)
    (local.set $len (call $input))
    (call $set (i32.const 0) (i32.const 32) (i32.sub (local.get $len) (i32.const 32))))

  (func (export "get")
    (local $len i32)
    (drop (call $input))
    (local.set $len (call $get (i32.const 0) (i32.const 32768) (i32.const 16384)))
    (if (i32.ge_s (local.get $len) (i32.const 0))
      (then (call $output (i32.const 32768) (local.get $len)))))

  (func (export "delete")
    (drop (call $input))
    (call $remove (i32.const 0))))
