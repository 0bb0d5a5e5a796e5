-- One workload name twice in one script: neither runs, each names the other.
leak.workload "twice" { step = function() end, iterations = 100 }
leak.workload "twice" { step = function() end, iterations = 100 }
