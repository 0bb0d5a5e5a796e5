-- not_mine must be a list of prefixes: a string is an error naming it.
local users = leak.target "build/targets/c/libusers.so"
leak.workload "bad-not-mine" {
  target = users, iterations = 100,
  not_mine = "libsqlite3",
  step = users:fn "users_update_leaky",
}
