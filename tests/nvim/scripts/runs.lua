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

  -- `r` in the list refreshes it (a second ZwarmRunsListed).
  vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  vim.api.nvim_feedkeys("r", "x", false)
  T.wait("the refreshed list", function()
    return #listed > 1
  end)
end)
