-- A script that declares nothing must not pass as "nothing failed".
local lib = leak.target "build/targets/c/libleak16.so"
