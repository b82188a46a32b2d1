-- Session ids complete from the daemon: the store already holds sessions written by
-- zwarm 3.9 before this editor started, so no notification told us about them.
local T = require("zwarm_test")

T.run(function()
  local updates = T.capture("ZwarmSessionUpdated")
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  T.results.updates_before = #updates
  T.results.cached_before = vim.tbl_count(require("zwarm.sessions").cache)
  T.results.all = vim.fn.getcompletion("Zwarm peek ", "cmdline")
  T.results.prefix = vim.fn.getcompletion("Zwarm trajectory 3f2", "cmdline")
  T.results.unique = vim.fn.getcompletion("Zwarm converse 3f2a", "cmdline")
  T.results.full = vim.fn.getcompletion("Zwarm end 3f2a9c1e-", "cmdline")
  T.results.second_word = vim.fn.getcompletion("Zwarm check 3f2a9c1e ", "cmdline")
end)
