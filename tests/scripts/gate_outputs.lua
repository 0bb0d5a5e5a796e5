-- gate_outputs.lua: workloads for tests/e2e_gate_outputs.sh (what `test`
-- does when its outputs cannot be written, or are in use).
--
-- LH_OUTPUTS_KEYS: key space of the cache (0: every key new, a leak).
-- LH_OUTPUTS_BLOCK: a report dir; the first step then puts a directory
-- where leakhound's temporary report.json goes (report.json.tmp.<pid> for
-- every ancestor pid), so that writing this run's report fails midway;
-- LH_OUTPUTS_BLOCK_FILE names another file of the dir to block instead.
-- LH_OUTPUTS_SLEEP: seconds the first step sleeps (a run kept busy).
-- LH_OUTPUTS_CRASH: outputs-crash puts a file where the dir's inputs/
-- folder goes, then dies in its step.

local lib = leak.target(os.getenv("LH_GATE_TARGET")
                        or "build/tests/gate/libgate-fixed.so")
local keys = tonumber(os.getenv("LH_OUTPUTS_KEYS") or "100")
local block = os.getenv("LH_OUTPUTS_BLOCK")
local file = os.getenv("LH_OUTPUTS_BLOCK_FILE") or "report.json"
local sleep = tonumber(os.getenv("LH_OUTPUTS_SLEEP") or "0")
local first = true

local function ppid(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("^%d+ %b() %S+ (%d+)"))
end

local function once()
  if not first then return end
  first = false
  if block then
    local pid = ppid("self")
    while pid and pid > 1 do
      os.execute("mkdir -p '" .. block .. "/" .. file .. ".tmp." .. pid .. "'")
      pid = ppid(pid)
    end
  end
  if sleep > 0 then os.execute("sleep " .. sleep) end
end

leak.workload "outputs-cache" {
  target = lib,
  warmup = 500, iterations = 4000, samples = 16,
  inputs = function(rng, i)
    return "key-" .. (keys > 0 and i % keys or i)
  end,
  step = function(input)
    once()
    lib:call("gate_cache_put", input)
  end,
  invariants = { leak.stable "heap.live_bytes" },
}

leak.workload "outputs-crash" {
  target = lib,
  warmup = 0, iterations = 100, samples = 10,
  step = function(input)
    if os.getenv("LH_OUTPUTS_CRASH") then
      io.open(block .. "/inputs", "w"):close()
      os.exit(3)
    end
  end,
  invariants = { leak.stable "heap.live_bytes" },
}
