;; Runs out of fuel: `run` loops for ever, so any fuel limit is exhausted.
(module
  (func (export "run")
    (loop $forever (br $forever))))
