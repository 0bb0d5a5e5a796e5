-- jget.lua: evaluate a Lua expression over a JSON file, for shell tests.
--
--     lua5.4 tests/jget.lua report.json 'r.workloads[1].status'
--
-- `r` is the decoded document; helpers: find(list, field, value) returns
-- the first element whose field equals value; count(list, pred).
-- Prints the value (tables as JSON); exits 1 if the expression errors.
local cjson = require "cjson"
local path, expr = arg[1], arg[2]
local f = assert(io.open(path, "rb"))
local ok, r = pcall(cjson.decode, f:read("a"))
f:close()
if not ok then
  io.stderr:write(path .. ": invalid JSON: " .. tostring(r) .. "\n")
  os.exit(1)
end
local env = {
  r = r, null = cjson.null, ipairs = ipairs, pairs = pairs, type = type,
  tostring = tostring, math = math, string = string, table = table,
}
function env.find(list, field, value)
  for _, v in ipairs(list or {}) do
    if v[field] == value then return v end
  end
end
function env.count(list, pred)
  local n = 0
  for _, v in ipairs(list or {}) do
    if pred(v) then n = n + 1 end
  end
  return n
end
local fn, err = load("return " .. expr, "=expr", "t", env)
if not fn then
  io.stderr:write(err .. "\n")
  os.exit(1)
end
local okv, v = pcall(fn)
if not okv then
  io.stderr:write(tostring(v) .. "\n")
  os.exit(1)
end
if type(v) == "table" then
  print(cjson.encode(v))
elseif math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53
then
  print(string.format("%d", v))     -- cjson decodes every number as float
else
  print(tostring(v))
end
