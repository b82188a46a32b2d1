-- The trajectory buffer fills while the session runs, from zwarm/sessionUpdated.
local T = require("zwarm_test")

local function text(buf)
  return table.concat(T.lines(buf), "\n")
end

T.run(function()
  local release = T.env("ZWARM_RELEASE")
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  local result = T.delegate("Zwarm delegate @codex write hello.txt")

  vim.cmd("Zwarm trajectory " .. result.shortId)
  local buf = T.wait("the trajectory buffer", function()
    local b = vim.api.nvim_get_current_buf()
    return vim.b[b].zwarm_session_id and b or nil
  end)
  T.wait("the first step while running", function()
    return text(buf):find("planning the change", 1, true)
  end)
  T.results.name = vim.api.nvim_buf_get_name(buf)
  T.results.filetype = vim.bo[buf].filetype
  T.results.modifiable = vim.bo[buf].modifiable
  T.results.running = T.lines(buf)
  -- Mark the step shown while running; if a later update rewrote that line instead of
  -- appending after it, the mark is invalidated.
  local probe_ns = vim.api.nvim_create_namespace("zwarm_test_probe")
  local step_row
  for i, line in ipairs(T.lines(buf)) do
    if line:find("planning the change", 1, true) then
      step_row = i - 1
    end
  end
  local probe = vim.api.nvim_buf_set_extmark(buf, probe_ns, step_row, 0, { invalidate = true })
  local keys = {}
  for _, map in ipairs(vim.api.nvim_buf_get_keymap(buf, "n")) do
    keys[#keys + 1] = map.lhs
  end
  T.results.keys = keys

  -- Release the agent; the rest of the turn arrives without any request from us.
  io.open(release, "w"):close()
  T.wait("the completed trajectory", function()
    local t = text(buf)
    return t:find(": completed", 1, true) and t:find("done: ", 1, true)
  end)
  T.results.completed = T.lines(buf)
  local mark = vim.api.nvim_buf_get_extmark_by_id(buf, probe_ns, probe, { details = true })
  T.results.step_line_kept = not mark[3].invalid
    and T.lines(buf)[mark[1] + 1]:find("planning the change", 1, true) ~= nil
  T.results.cursor_at_end = vim.api.nvim_win_get_cursor(0)[1] == vim.api.nvim_buf_line_count(buf)

  -- `q` closes the window and leaves the buffer for next time.
  local wins = #vim.api.nvim_list_wins()
  vim.api.nvim_feedkeys("q", "x", false)
  T.results.windows_closed = wins - #vim.api.nvim_list_wins()
end)
