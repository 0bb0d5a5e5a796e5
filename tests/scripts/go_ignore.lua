-- ignore_goroutines: known goroutines (by top function, any frame or
-- creator) are neither counted nor blamed; other rules hide nothing.
local gr = leak.target "build/targets/go/libgoroutines.so"
leak.workload "leak-not-ignored" {
  target = gr, iterations = 2000, expect = { fail = { "go.goroutines" } },
  step = function(input) gr:call("OpGoroutineLeakAlways", input) end,
  invariants = { leak.stable "go.goroutines" },
}
leak.workload "leak-ignored-by-top" {
  target = gr, iterations = 2000, expect = "clean",
  ignore_goroutines = { top = { "main.OpGoroutineLeakAlways.func1" } },
  step = function(input) gr:call("OpGoroutineLeakAlways", input) end,
  invariants = { leak.stable "go.goroutines" },
}
leak.workload "leak-ignored-by-creator" {
  target = gr, iterations = 2000, expect = "clean",
  ignore_goroutines = { creator = { "main.OpGoroutineLeakAlways" } },
  step = function(input) gr:call("OpGoroutineLeakAlways", input) end,
  invariants = { leak.stable "go.goroutines" },
}
leak.workload "other-ignore-does-not-hide" {
  target = gr, iterations = 2000, expect = { fail = { "go.goroutines" } },
  ignore_goroutines = { any = { "main.somethingElse" } },
  step = function(input) gr:call("OpGoroutineLeakAlways", input) end,
  invariants = { leak.stable "go.goroutines" },
}
