;; A counter: `increment` adds one to a little-endian u64 and outputs the new value; `get`
;; outputs the current value (0 when none is stored). The input names the counter: 32 bytes
;; are its key; an empty input means the key 00..00. Any other input traps.
;;
;; Memory: the key at 0..32, the value at 32..40.
(module
  (import "switchyard" "input_len" (func $input_len (result i32)))
  (import "switchyard" "input_read" (func $input_read (param i32)))
  (import "switchyard" "get" (func $get (param i32 i32 i32) (result i32)))
  (import "switchyard" "set" (func $set (param i32 i32 i32)))
  (import "switchyard" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)

  ;; Reads the key into 0..32 and the stored value into 32..40 (0 when absent).
  (func $load
    (local $len i32)
    (local.set $len (call $input_len))
    (if (i32.eq (local.get $len) (i32.const 32))
      (then (call $input_read (i32.const 0)))
      (else (if (i32.ne (local.get $len) (i32.const 0)) (then unreachable))))
    (if (i32.ne (call $get (i32.const 0) (i32.const 32) (i32.const 8)) (i32.const 8))
      (then (i64.store (i32.const 32) (i64.const 0)))))

  (func (export "increment")
    (call $load)
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $set (i32.const 0) (i32.const 32) (i32.const 8))
    (call $output (i32.const 32) (i32.const 8)))

  (func (export "get")
    (call $load)
    (call $output (i32.const 32) (i32.const 8))))
