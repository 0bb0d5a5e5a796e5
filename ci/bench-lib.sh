# ci/bench-lib.sh - what the ci/bench* scripts share; sourced, not run
# (their Lua shares ci/bench-lib.lua).
#
#   BENCH_CPU_MODEL        the CPU's model name (exported)
#   bench_machine          one line naming the machine a figure was measured
#                          on: CPU model, cores, load average now
#   bench_readme NAME MD   replaces README.md's section between
#                          <!-- bench-NAME:begin --> and <!-- bench-NAME:end -->
#                          with the file MD (atomically: a temporary file
#                          renamed over README.md); an error when the markers
#                          are missing, so a renamed section is never skipped

# The CPU's model name, for the scripts' Lua (os.getenv).
BENCH_CPU_MODEL=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' \
                  /proc/cpuinfo | head -n 1)
export BENCH_CPU_MODEL=${BENCH_CPU_MODEL:-unknown CPU}

bench_machine() {
    printf '%s, %s cores, load average %s\n' "$BENCH_CPU_MODEL" "$(nproc)" \
        "$(cut -d' ' -f1 /proc/loadavg)"
}

bench_readme() {
    local name=$1 md=$2
    lua5.4 - "$name" "$md" <<'LUA'
local name, md = arg[1], arg[2]
local f = assert(io.open(md)); local text = f:read("a"); f:close()
if not text:match("\n$") then text = text .. "\n" end
f = assert(io.open("README.md")); local r = f:read("a"); f:close()
local b = "<!-- bench-" .. name .. ":begin -->\n"
local e = "<!-- bench-" .. name .. ":end -->"
local _, j = r:find(b, 1, true)
local k = j and r:find(e, j, true)
if not k then
  io.stderr:write("README.md: no <!-- bench-" .. name ..
                  ":begin/end --> markers\n")
  os.exit(1)
end
r = r:sub(1, j) .. text .. r:sub(k)
f = assert(io.open("README.md.tmp", "w")); f:write(r); assert(f:close())
assert(os.rename("README.md.tmp", "README.md"))
print("README.md: bench-" .. name .. " section rewritten")
LUA
}
