-- vim.notify when sessions finish: one that fails, one that completes. Both arrive
-- from the daemon's window/showMessage, without any request from us.
local T = require("zwarm_test")

local function mark_with(buf, needle)
  return function()
    return T.find_mark(buf, needle)
  end
end

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup()
  T.client()

  local failing = T.delegate("2Zwarm delegate @codex this one fails", "the first delegate result")
  T.results.failing = failing
  T.results.failed = T.wait("the failure notification", function()
    return T.notified(failing.shortId .. " failed")
  end)
  T.results.failed_mark = T.wait("the failed status at the anchor", mark_with(buf, "failed"))

  local working = T.delegate("6Zwarm delegate @codex this one works", "the second delegate result")
  T.results.working = working
  T.results.completed = T.wait("the completion notification", function()
    return T.notified(working.shortId .. " completed")
  end)
  T.results.completed_mark = T.wait("the completed status at the anchor", mark_with(buf, "completed"))
end)
