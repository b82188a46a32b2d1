-- :Zwarm runs lists the project's orchestrator runs; <CR> opens one's steps.
local T = require("zwarm_test")

T.run(function()
  local run_id = T.env("ZWARM_RUN_ID")
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  local listed = T.capture("ZwarmRunsListed")
  local opened = T.capture("ZwarmRunOpened")

  vim.cmd("Zwarm runs")
  T.wait("the runs list", function()
    return #listed > 0
  end)
  local buf = vim.api.nvim_get_current_buf()
  T.results.name = vim.api.nvim_buf_get_name(buf)
  T.results.count = listed[1].count
  T.results.lines = T.lines(buf)
  T.results.modifiable = vim.bo[buf].modifiable

  -- The cursor on the finished run's line, then <CR>.
  for i, line in ipairs(T.lines(buf)) do
    if vim.startswith(line, run_id) then
      vim.api.nvim_win_set_cursor(0, { i, 0 })
    end
  end
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)
  T.wait("the run's steps", function()
    return #opened > 0
  end)
  T.results.opened = opened[1].runId
  T.results.run_name = vim.api.nvim_buf_get_name(0)
  T.results.run_lines = T.lines(0)

  -- `R` on the interrupted run resumes it in the daemon; it streams into its buffer.
  local stale = T.env("ZWARM_STALE_RUN")
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  for i, line in ipairs(T.lines(buf)) do
    if vim.startswith(line, stale) then
      vim.api.nvim_win_set_cursor(0, { i, 0 })
    end
  end
  vim.api.nvim_feedkeys("R", "x", false)
  local resumed = T.wait("the resumed run's buffer", function()
    local b = vim.fn.bufnr("zwarm://orchestrator/" .. stale)
    return b ~= -1 and T.lines(b)[1] == ("# orchestrator %s: exited"):format(stale) and b or nil
  end)
  T.wait("the resumed run's exit step", function()
    return table.concat(T.lines(resumed), "\n"):find("resumed from nvim", 1, true)
  end)
  T.results.resumed_lines = T.lines(resumed)

  -- `r` in the list refreshes it (a later ZwarmRunsListed) and shows the run exited.
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_feedkeys("r", "x", false)
  T.wait("the refreshed list", function()
    return #listed > 1
  end)
  T.results.refreshed = T.lines(buf)
end)
