-- leak.lua: the workload DSL, embedded into the leakhound binary.
--
-- The C module (lua_leak.c) creates the `leak` table with the primitives
-- (leak.target, leak.corpus, leak.settle, leak.now, leak.sleep) and runs this
-- chunk with that table as its argument.  Everything here validates eagerly
-- and reports errors at the script line that made them, so a typo in a
-- workload is a clear error when the script loads, not a mystery halfway
-- through a run.

local leak = ...

local workloads = {}
local by_name = {}
leak._workloads = workloads

local BUILTIN_METRICS = {
  ["heap.live_bytes"] = true, ["heap.live_allocs"] = true,
  ["proc.rss_bytes"] = true, ["proc.fds"] = true,
  ["proc.threads"] = true, ["proc.maps"] = true,
  ["go.goroutines"] = true, ["go.heap_live_bytes"] = true,
  ["go.heap_objects"] = true, ["go.gc_cycles"] = true,
  ["mmap.live_bytes"] = true, ["mmap.live_maps"] = true,
  ["heap.allocs"] = true, ["heap.alloc_bytes"] = true,
  ["go.allocs"] = true, ["go.alloc_bytes"] = true,
  ["go.gc_auto_cycles"] = true,
}

-- Counters count work done since start (they only rise): judged as a
-- rate per iteration by leak.rate, and by nothing else.
local COUNTERS = {
  ["heap.allocs"] = true, ["heap.alloc_bytes"] = true,
  ["go.allocs"] = true, ["go.alloc_bytes"] = true,
  ["go.gc_auto_cycles"] = true,
}

local function metric_list()
  local names = {}
  for k in pairs(BUILTIN_METRICS) do names[#names + 1] = k end
  table.sort(names)
  names[#names + 1] = "target.NAME"
  return table.concat(names, ", ")
end

local function check_metric(metric, level)
  if type(metric) ~= "string" then
    error("metric name must be a string, got " .. type(metric), level + 1)
  end
  if BUILTIN_METRICS[metric] or metric:match("^target%.[%w_]+$") then
    return metric
  end
  error("unknown metric '" .. metric .. "' (known: " .. metric_list() .. ")",
        level + 1)
end

-- How a bad value is shown: a string is named as one, so "100" is never
-- mistaken for the number 100.
local function show(v)
  if type(v) == "string" then return string.format("a string %q", v) end
  if type(v) == "number" then return tostring(v) end
  return "a " .. type(v)
end

-- "1.5s", "250ms", "2m", "1h" or a number of seconds -> seconds.
local UNITS = { ms = 0.001, s = 1, m = 60, h = 3600 }
local function seconds(v, what, level)
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" then
    local d, u = v:match("^%s*([%d%.]+)%s*(%a*)%s*$")
    d = tonumber(d)
    if d and (u == "" or UNITS[u]) then n = d * (UNITS[u] or 1) end
  end
  if not n or n ~= n or n < 0 or n == math.huge then
    error(what .. " must be a duration like \"30s\", \"500ms\" or \"2m\", "
          .. "got " .. show(v), level + 1)
  end
  return n
end

-- Counts are integers within [min, max]: a float that is not an integer
-- or does not fit (1e30) is an error, never a default.
local MAX_COUNT = 2^53
local function count(v, what, min, level, max)
  max = max or MAX_COUNT
  if type(v) ~= "number" or v ~= v or v % 1 ~= 0 then
    error(what .. " must be an integer, got " .. show(v), level + 1)
  end
  if v < min then
    error(what .. " must be at least " .. min .. ", got " .. show(v),
          level + 1)
  end
  if v > max then
    error(what .. " must be at most " .. string.format("%.0f", max)
          .. ", got " .. show(v), level + 1)
  end
  return math.tointeger(v)
end

-- Slack: a number (absolute, in the metric's unit) or "N%" of the baseline.
local function slack(v, level)
  if type(v) == "number" and v >= 0 then return v, false end
  if type(v) == "string" then
    local n = tonumber(v:match("^%s*([%d%.]+)%s*%%%s*$"))
    if n then return n, true end
  end
  error("slack must be a non-negative number or a percentage like \"5%\", "
        .. "got " .. tostring(v), level + 1)
end

---------------------------------------------------------------------------
-- Invariants: leak.stable "metric" or leak.stable "metric" { options }
---------------------------------------------------------------------------

local OPTIONS = {
  stable = { slack = true, alpha = true, tolerance = true },
  baseline = { slack = true, tolerance = true },
  bounded = { max = true, tolerance = true },
  max_growth = { per_iter = true, alpha = true, tolerance = true },
  rate = { max = true, alpha = true, tolerance = true },
}

-- Tolerance against a stored baseline (`leakhound test --baseline`): how
-- far growth per iteration and peak may rise before a run that still
-- passes its invariants fails the gate as a creeping regression.
local function tolerance(v, level)
  if type(v) ~= "table" then
    error("tolerance must be a table like { per_iter = \"50%\", "
          .. "peak = 4096 }", level + 1)
  end
  local t = {}
  for k, x in pairs(v) do
    if k ~= "per_iter" and k ~= "peak" then
      error("unknown tolerance '" .. tostring(k)
            .. "' (allowed: peak, per_iter)", level + 1)
    end
    local ok, n, pct = pcall(slack, x, 1)
    if not ok then
      error("tolerance " .. k .. " must be a non-negative number or a "
            .. "percentage like \"20%\", got " .. tostring(x), level + 1)
    end
    t[k], t[k .. "_pct"] = n, pct
  end
  return t
end

local invariant_mt = {}
invariant_mt.__index = invariant_mt

invariant_mt.__call = function(self, opts)
  if type(opts) ~= "table" then
    error("options for " .. self.kind .. " '" .. self.metric
          .. "' must be a table", 2)
  end
  for k, v in pairs(opts) do
    if not OPTIONS[self.kind][k] then
      local allowed = {}
      for name in pairs(OPTIONS[self.kind]) do allowed[#allowed + 1] = name end
      table.sort(allowed)
      error("unknown option '" .. tostring(k) .. "' for " .. self.kind
            .. " (allowed: " .. table.concat(allowed, ", ") .. ")", 2)
    end
    if k == "slack" then
      self.slack, self.slack_pct = slack(v, 2)
    elseif k == "tolerance" then
      self.tolerance = tolerance(v, 2)
    elseif k == "alpha" then
      if type(v) ~= "number" or v <= 0 or v >= 0.5 then
        error("alpha must be a number in (0, 0.5), got " .. tostring(v), 2)
      end
      self.alpha = v
    else
      if type(v) ~= "number" then
        error(k .. " must be a number, got " .. tostring(v), 2)
      end
      self[k] = v
    end
  end
  if self.kind == "bounded" and not self.max then
    error("bounded '" .. self.metric .. "' needs { max = N }", 2)
  end
  if self.kind == "rate" and not self.max then
    error("rate '" .. self.metric .. "' needs { max = N } (per iteration)", 2)
  end
  if self.kind == "max_growth" and not self.per_iter then
    error("max_growth '" .. self.metric .. "' needs { per_iter = N }", 2)
  end
  self.configured = true
  return self
end

invariant_mt.__tostring = function(self)
  return self.kind .. "(" .. self.metric .. ")"
end

local function invariant(kind)
  return function(metric)
    check_metric(metric, 2)
    if kind == "rate" and not COUNTERS[metric] then
      local names = {}
      for k in pairs(COUNTERS) do names[#names + 1] = k end
      table.sort(names)
      error("leak.rate needs a counter metric (" .. table.concat(names, ", ")
            .. "), not '" .. metric .. "': for growth per iteration of a "
            .. "level use leak.max_growth", 2)
    end
    if kind ~= "rate" and COUNTERS[metric] then
      error("'" .. metric .. "' counts work done since start (it only "
            .. "rises): judge it per iteration with leak.rate \""
            .. metric .. "\" { max = N }, not leak." .. kind, 2)
    end
    return setmetatable({ kind = kind, metric = metric }, invariant_mt)
  end
end

leak.stable = invariant "stable"
leak.baseline = invariant "baseline"
leak.bounded = invariant "bounded"
leak.max_growth = invariant "max_growth"
leak.rate = invariant "rate"

---------------------------------------------------------------------------
-- Workloads
--
-- A workload with a bad field does not stop its script: it is kept with
-- its error (`_error`, "script:line: workload 'name': ..."), reported as
-- an error while the script's other workloads run.  Field checkers raise
-- messages without a position (level 0); leak.workload adds the
-- declaration's.
---------------------------------------------------------------------------

local FIELDS = {
  target = "target", description = "string", expect = "expect",
  setup = "function", teardown = "function", init = "function",
  step = "function", settle = "settle",
  warmup = "count0", iterations = "count1", duration = "duration",
  threads = "count1", samples = "count1", timeout = "duration",
  inputs = "inputs", invariants = "invariants",
  diagnose = "boolean", sample_bytes = "count1", horizon = "count1",
  ignore_goroutines = "goignore", not_mine = "notmine",
}
-- Upper limits beyond "fits an integer": threads the runner supports, and
-- samples the detector accepts (samples + the baseline).
local MAX = { threads = 64, samples = 4095, horizon = 1000 }

-- Edit distance (insertions, deletions, substitutions, transpositions).
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                         d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1)
         and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

-- " (did you mean 'x'?)" for the closest of names, or "".
local function suggest(name, names, prefix)
  local best, best_d
  for _, k in ipairs(names) do
    local dist = distance(name, k)
    -- a prefix ("iteration", "invariant") is as good as one edit
    if #name >= 3 and k:sub(1, #name) == name then dist = 1 end
    if dist <= math.max(2, #name // 3) and (not best_d or dist < best_d)
    then best, best_d = k, dist end
  end
  return best and (" (did you mean '" .. (prefix or "") .. best .. "'?)")
      or ""
end

local FIELD_NAMES = {}
for k in pairs(FIELDS) do FIELD_NAMES[#FIELD_NAMES + 1] = k end
table.sort(FIELD_NAMES)

local EXPECT = { clean = true, fail = true, crashed = true, timeout = true,
                 error = true, unresolved = true }

local function check_expect(v)
  if type(v) == "string" and EXPECT[v] then
    return { status = v, metrics = {} }
  end
  if type(v) == "table" and type(v.fail) == "table" then
    local metrics = {}
    for i, m in ipairs(v.fail) do
      local ok, r = pcall(check_metric, m, -1)
      if not ok then error("expect.fail[" .. i .. "]: " .. r, 0) end
      metrics[i] = r
    end
    return { status = "fail", metrics = metrics }
  end
  error("expect must be \"clean\", \"crashed\", \"timeout\", \"error\", "
        .. "\"unresolved\" or "
        .. "{ fail = { \"metric\", ... } }, got " .. show(v), 0)
end

local function check_inputs(v)
  if type(v) == "function" then return v end
  if type(v) == "table" and rawget(v, "__leak_corpus") then return v end
  if type(v) == "table" then
    if #v == 0 then error("inputs list is empty", 0) end
    for i, s in ipairs(v) do
      if type(s) ~= "string" then
        error("inputs[" .. i .. "] must be a string, got " .. show(s), 0)
      end
    end
    return v
  end
  error("inputs must be a list of strings, a function(rng, i) or "
        .. "leak.corpus(dir), got " .. show(v), 0)
end

local function check_invariants(v)
  if type(v) ~= "table" then
    error("invariants must be a list of invariants, got " .. show(v), 0)
  end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n == 0 then
    error("invariants = {} checks nothing: list at least one invariant, "
          .. "or leave the field out for the default ones", 0)
  end
  if n ~= #v then
    error("invariants must be a list: it has keys other than 1.." .. #v, 0)
  end
  for i, inv in ipairs(v) do
    if getmetatable(inv) ~= invariant_mt then
      error("invariants[" .. i .. "] is not an invariant (use leak.stable,"
            .. " leak.baseline, leak.bounded, leak.max_growth or leak.rate)",
            0)
    end
    if (inv.kind == "bounded" or inv.kind == "max_growth"
        or inv.kind == "rate")
       and not inv.configured then
      error("invariants[" .. i .. "]: " .. tostring(inv)
            .. " needs options, e.g. { max = N } / { per_iter = N }", 0)
    end
  end
  return v
end

local function check_goignore(v)
  if type(v) ~= "table" then
    error("ignore_goroutines must be a table { top = {...}, any = {...}, "
          .. "creator = {...} }", 0)
  end
  for k, list in pairs(v) do
    if k ~= "top" and k ~= "any" and k ~= "creator" then
      error("ignore_goroutines: unknown key '" .. tostring(k)
            .. "' (top, any, creator)", 0)
    end
    if type(list) ~= "table" or #list > 32 then
      error("ignore_goroutines." .. k .. " must be a list of at most 32 "
            .. "function names", 0)
    end
    for i, f in ipairs(list) do
      if type(f) ~= "string" or #f >= 128 then
        error("ignore_goroutines." .. k .. "[" .. i .. "] must be a "
              .. "function name like \"net/http.(*persistConn).readLoop\"",
              0)
      end
    end
  end
  return v
end

-- Prefixes of code that is not the user's, beyond the system libraries:
-- blame passes over it (diag.h: lh_notmine; 32 of at most 127 bytes).
local function check_notmine(v)
  if type(v) ~= "table" or #v > 32 then
    error("not_mine must be a list of at most 32 prefixes, e.g. "
          .. "{ \"libfoo\", \"vendor/\" }, got " .. show(v), 0)
  end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= #v then
    error("not_mine must be a list: it has keys other than 1.." .. #v, 0)
  end
  for i, p in ipairs(v) do
    if type(p) ~= "string" or p == "" or #p >= 128 then
      error("not_mine[" .. i .. "] must be a non-empty prefix of a "
            .. "function name or a library or source file path (under "
            .. "128 bytes), got " .. show(p), 0)
    end
  end
  return v
end

local function check_field(name, kind, v)
  if kind == "function" or kind == "string" or kind == "boolean" then
    if type(v) ~= kind then
      error(name .. " must be a " .. kind .. ", got " .. show(v), 0)
    end
    return v
  elseif kind == "target" then
    if not leak.is_target(v) then
      error("target must be a leak.target(...), got " .. show(v), 0)
    end
    return v
  elseif kind == "settle" then
    if v ~= false and type(v) ~= "function" then
      error("settle must be a function or false, got " .. show(v), 0)
    end
    return v
  elseif kind == "count0" then return count(v, name, 0, -1, MAX[name])
  elseif kind == "count1" then return count(v, name, 1, -1, MAX[name])
  elseif kind == "duration" then
    local secs = seconds(v, name, -1)
    if secs <= 0 then
      error(name .. " must be longer than 0, got " .. show(v), 0)
    end
    return secs
  elseif kind == "goignore" then return check_goignore(v)
  elseif kind == "notmine" then return check_notmine(v)
  elseif kind == "expect" then return check_expect(v)
  elseif kind == "inputs" then return check_inputs(v)
  elseif kind == "invariants" then return check_invariants(v)
  end
end

function leak.workload(name)
  if type(name) ~= "string" or name == "" then
    error("leak.workload needs a name: leak.workload \"name\" { ... }", 2)
  end
  return function(def)
    local info = debug.getinfo(2, "Sl")
    local w = { name = name,
                source = info.short_src .. ":" .. (info.currentline or 0) }
    local problems = {}
    local function bad(msg) problems[#problems + 1] = msg end
    if type(def) ~= "table" then
      bad("needs a table { ... }, got " .. show(def))
      def = {}
    end
    local keys = {}
    for k in pairs(def) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local kind = FIELDS[k]
      if not kind then
        bad("unknown field '" .. tostring(k) .. "'"
            .. suggest(tostring(k), FIELD_NAMES))
      else
        local ok, r = pcall(check_field, k, kind, def[k])
        if ok then w[k] = r else bad(tostring(r)) end
      end
    end
    if def.step == nil then bad("no step function") end
    if def.iterations ~= nil and def.duration ~= nil then
      bad("give iterations or duration, not both")
    end
    local first = by_name[name]
    if first then
      -- neither runs: they would share a report folder and a case id
      bad("declared twice (first at " .. first.source .. ")")
      first._error = first._error or (first.source .. ": workload '" .. name
                     .. "': declared twice (again at " .. w.source .. ")")
    end
    if #problems > 0 then
      w._error = w.source .. ": workload '" .. name .. "': "
                 .. table.concat(problems, "; ")
    end
    w.index = #workloads + 1
    workloads[w.index] = w
    by_name[name] = by_name[name] or w
    return w
  end
end

---------------------------------------------------------------------------
-- Strict globals: reading an undeclared global is an error, and so is
-- creating one from inside a function.  Globals are declared by assigning
-- them at the top level of the script.
---------------------------------------------------------------------------

function leak._strict(env)
  local declared = {}
  setmetatable(env, {
    __newindex = function(t, k, v)
      if not declared[k] then
        local what = debug.getinfo(2, "S").what
        if what ~= "main" and what ~= "C" then
          error("assignment to undeclared global '" .. tostring(k)
                .. "' (declare it at the top level, or use local)", 2)
        end
        declared[k] = true
      end
      rawset(t, k, v)
    end,
    __index = function(_, k)
      error("undefined global '" .. tostring(k) .. "'", 2)
    end,
  })
end

-- The module is strict too: leak.flat is an error naming it, not a nil
-- to call.  Synonyms catch what a typo distance cannot.
local SYNONYMS = { flat = "stable", steady = "stable", constant = "stable",
                   stays = "stable", max = "bounded", limit = "bounded",
                   bound = "bounded", growth = "max_growth",
                   grows = "max_growth", back = "baseline",
                   returns = "baseline", seed = "rng", random = "rng",
                   lib = "target", library = "target", load = "target",
                   inputs = "corpus", dir = "corpus", files = "corpus",
                   gc = "settle", wait = "sleep", time = "now",
                   clock = "now", test = "workload", case = "workload" }
setmetatable(leak, {
  __index = function(t, k)
    local names = {}
    for name in pairs(t) do
      if type(name) == "string" and name:sub(1, 1) ~= "_" then
        names[#names + 1] = name
      end
    end
    table.sort(names)
    local hint = type(k) == "string"
      and (SYNONYMS[k] and " (did you mean 'leak." .. SYNONYMS[k] .. "'?)"
           or suggest(k, names, "leak."))
      or ""
    if hint == "" then
      hint = " (leak has: " .. table.concat(names, ", ") .. ")"
    end
    error("leak." .. tostring(k) .. " does not exist" .. hint, 2)
  end,
})

return leak
