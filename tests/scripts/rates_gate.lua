-- rates_gate.lua: the allocation-rate gate (tests/e2e_rates.sh).  One
-- workload per language whose op LH_RATES_OP picks: the reusing twin (the
-- default) or the allocating one, under the same name so a baseline
-- recorded on one judges the other.  The rate invariants' max is loose:
-- only the baseline comparison can catch the allocating op.

local op = os.getenv("LH_RATES_OP") or "reuse"
local scratch = leak.target "build/targets/c/libscratch.so"
local escapes = leak.target "build/targets/go/libescapes.so"

-- Requests of random length and case (from --seed).
local function request(rng)
  local n = rng:int(4, 300)
  local s = rng:bytes(n)
  return s
end

leak.workload "c-rates-gate" {
  target = scratch, warmup = 200, iterations = 6000, samples = 20,
  inputs = request,
  step = scratch:fn(op == "alloc" and "scratch_parse_alloc"
                    or "scratch_parse_reuse"),
  invariants = {
    leak.stable "heap.live_bytes",
    leak.rate "heap.allocs" { max = 5 },
    leak.rate "heap.alloc_bytes" { max = 4096 },
  },
}

leak.workload "go-rates-gate" {
  target = escapes, warmup = 200, iterations = 6000, samples = 20,
  inputs = request,
  step = escapes:fn(op == "alloc" and "OpParseEscape" or "OpParseInto"),
  invariants = {
    leak.rate "go.allocs" { max = 5 },
    leak.rate "go.alloc_bytes" { max = 4096 },
    leak.rate "go.gc_auto_cycles" { max = 1 },
  },
}
