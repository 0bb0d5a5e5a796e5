-- ci/bench-lib.lua - what the ci/bench* scripts' Lua shares; loaded with
-- dofile("ci/bench-lib.lua") from the repository's root.
local M = {}

-- The median of the values of v (a list, or a table keyed by round);
-- nil when it has none.
function M.median(v)
  local s = {}
  for _, x in pairs(v) do s[#s + 1] = x end
  table.sort(s)
  if #s == 0 then return nil end
  if #s % 2 == 1 then return s[(#s + 1) // 2] end
  return (s[#s // 2] + s[#s // 2 + 1]) / 2
end

return M
