-- A script with a syntax error on line 4: the run reports it and goes on.
local lib = leak.target "build/targets/c/libleak16.so"

leak.workload "never-declared" { target = lib step = function() end }
