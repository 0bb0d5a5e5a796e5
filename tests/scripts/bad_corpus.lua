-- Corpus entries that cannot be read are errors naming them, and a FIFO
-- never blocks.  e2e_errors.sh makes the folders under $LH_CORPORA.
local lib = leak.target "build/targets/c/libleak16.so"
local root = os.getenv("LH_CORPORA")

for _, name in ipairs { "dangling", "loop", "fifo", "unreadable", "good" } do
  leak.workload("corpus-" .. name) {
    target = lib, warmup = 0, iterations = 20, timeout = "60s",
    inputs = leak.corpus(root .. "/" .. name),
    step = function(input) lib:call("leak16_clean", input) end,
  }
end
