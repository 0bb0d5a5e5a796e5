-- leak.lua: the workload DSL, embedded into the leakhound binary.
--
-- The C module (lua_leak.c) creates the `leak` table with the primitives
-- (leak.target, leak.corpus, leak.settle, leak.now, leak.sleep) and runs this
-- chunk with that table as its argument.  Everything here validates eagerly
-- and reports errors at the script line that made them (error level 2/3), so
-- a typo in a workload is a clear error when the script loads, not a
-- mystery halfway through a run.

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

-- "1.5s", "250ms", "2m", "1h" or a number of seconds -> seconds.
local UNITS = { ms = 0.001, s = 1, m = 60, h = 3600 }
local function seconds(v, what, level)
  if type(v) == "number" and v >= 0 then return v end
  if type(v) == "string" then
    local n, u = v:match("^%s*([%d%.]+)%s*(%a*)%s*$")
    n = tonumber(n)
    if n and (u == "" or UNITS[u]) then return n * (UNITS[u] or 1) end
  end
  error(what .. " must be a duration like \"30s\", \"500ms\" or \"2m\", got "
        .. tostring(v), level + 1)
end

local function count(v, what, min, level)
  if math.type(v) ~= "integer" and not (type(v) == "number" and v % 1 == 0)
  then
    error(what .. " must be an integer, got " .. tostring(v), level + 1)
  end
  if v < min then
    error(what .. " must be at least " .. min .. ", got " .. v, level + 1)
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
    return setmetatable({ kind = kind, metric = metric }, invariant_mt)
  end
end

leak.stable = invariant "stable"
leak.baseline = invariant "baseline"
leak.bounded = invariant "bounded"
leak.max_growth = invariant "max_growth"

---------------------------------------------------------------------------
-- Workloads
---------------------------------------------------------------------------

local FIELDS = {
  target = "target", description = "string", expect = "expect",
  setup = "function", teardown = "function", init = "function",
  step = "function", settle = "settle",
  warmup = "count0", iterations = "count1", duration = "duration",
  threads = "count1", samples = "count1", timeout = "duration",
  inputs = "inputs", invariants = "invariants",
  diagnose = "boolean", sample_bytes = "count1",
  ignore_goroutines = "goignore",
}

local function suggest(name)
  local best, best_d
  for k in pairs(FIELDS) do
    -- crude distance: shared prefix length, enough for typos like
    -- "iteration" or "invariant"
    local n = 0
    while n < #k and n < #name and k:sub(n + 1, n + 1) == name:sub(n + 1, n + 1)
    do n = n + 1 end
    if n >= 3 and (not best_d or n > best_d) then best, best_d = k, n end
  end
  return best and (" (did you mean '" .. best .. "'?)") or ""
end

local EXPECT = { clean = true, fail = true, crashed = true, timeout = true,
                 error = true }

local function check_expect(v, level)
  if type(v) == "string" and EXPECT[v] then
    return { status = v, metrics = {} }
  end
  if type(v) == "table" and type(v.fail) == "table" then
    local metrics = {}
    for i, m in ipairs(v.fail) do metrics[i] = check_metric(m, level + 1) end
    return { status = "fail", metrics = metrics }
  end
  error("expect must be \"clean\", \"crashed\", \"timeout\", \"error\" or "
        .. "{ fail = { \"metric\", ... } }", level + 1)
end

local function check_inputs(v, level)
  if type(v) == "function" then return v end
  if type(v) == "table" and v.__leak_corpus then return v end
  if type(v) == "table" then
    if #v == 0 then error("inputs list is empty", level + 1) end
    for i, s in ipairs(v) do
      if type(s) ~= "string" then
        error("inputs[" .. i .. "] must be a string, got " .. type(s),
              level + 1)
      end
    end
    return v
  end
  error("inputs must be a list of strings, a function(rng, i) or "
        .. "leak.corpus(dir)", level + 1)
end

local function check_field(name, kind, v, level)
  if kind == "function" or kind == "string" or kind == "boolean" then
    if type(v) ~= kind then
      error("workload field '" .. name .. "' must be a " .. kind .. ", got "
            .. type(v), level + 1)
    end
    return v
  elseif kind == "target" then
    if not leak.is_target(v) then
      error("workload field 'target' must be a leak.target(...)", level + 1)
    end
    return v
  elseif kind == "settle" then
    if v ~= false and type(v) ~= "function" then
      error("workload field 'settle' must be a function or false", level + 1)
    end
    return v
  elseif kind == "goignore" then
    if type(v) ~= "table" then
      error("ignore_goroutines must be a table { top = {...}, any = {...}, "
            .. "creator = {...} }", level + 1)
    end
    for k, list in pairs(v) do
      if k ~= "top" and k ~= "any" and k ~= "creator" then
        error("ignore_goroutines: unknown key '" .. tostring(k)
              .. "' (top, any, creator)", level + 1)
      end
      if type(list) ~= "table" or #list > 32 then
        error("ignore_goroutines." .. k .. " must be a list of at most 32 "
              .. "function names", level + 1)
      end
      for i, f in ipairs(list) do
        if type(f) ~= "string" or #f >= 128 then
          error("ignore_goroutines." .. k .. "[" .. i .. "] must be a "
                .. "function name like \"net/http.(*persistConn).readLoop\"",
                level + 1)
        end
      end
    end
    return v
  elseif kind == "count0" then return count(v, name, 0, level + 1)
  elseif kind == "count1" then return count(v, name, 1, level + 1)
  elseif kind == "duration" then return seconds(v, name, level + 1)
  elseif kind == "expect" then return check_expect(v, level + 1)
  elseif kind == "inputs" then return check_inputs(v, level + 1)
  elseif kind == "invariants" then
    if type(v) ~= "table" then
      error("invariants must be a list", level + 1)
    end
    for i, inv in ipairs(v) do
      if getmetatable(inv) ~= invariant_mt then
        error("invariants[" .. i .. "] is not an invariant (use leak.stable,"
              .. " leak.baseline, leak.bounded or leak.max_growth)", level + 1)
      end
      if (inv.kind == "bounded" or inv.kind == "max_growth")
         and not inv.configured then
        error("invariants[" .. i .. "]: " .. tostring(inv)
              .. " needs options, e.g. { max = N } / { per_iter = N }",
              level + 1)
      end
    end
    return v
  end
end

function leak.workload(name)
  if type(name) ~= "string" or name == "" then
    error("leak.workload needs a name: leak.workload \"name\" { ... }", 2)
  end
  if by_name[name] then
    error("workload '" .. name .. "' is declared twice", 2)
  end
  return function(def)
    if type(def) ~= "table" then
      error("leak.workload \"" .. name .. "\" needs a table { ... }", 2)
    end
    local w = { name = name }
    for k, v in pairs(def) do
      local kind = FIELDS[k]
      if not kind then
        error("workload '" .. name .. "': unknown field '" .. tostring(k)
              .. "'" .. suggest(tostring(k)), 2)
      end
      w[k] = check_field(k, kind, v, 2)
    end
    if not w.step then
      error("workload '" .. name .. "' has no step function", 2)
    end
    if w.iterations and w.duration then
      error("workload '" .. name .. "': give iterations or duration, "
            .. "not both", 2)
    end
    local info = debug.getinfo(2, "Sl")
    w.source = info.short_src .. ":" .. (info.currentline or 0)
    w.index = #workloads + 1
    workloads[w.index] = w
    by_name[name] = w
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

return leak
