-- The trajectory buffer's own keys: `r` re-renders, `x` ends the running session,
-- `c` prompts for a message and continues the conversation.
local T = require("zwarm_test")

local function text(buf)
  return table.concat(T.lines(buf), "\n")
end

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  local drawn = T.capture("ZwarmTrajectoryDrawn")
  local result = T.delegate("Zwarm delegate @codex wait for me")
  T.results.session = result
  vim.cmd("Zwarm trajectory " .. result.shortId)
  local buf = T.wait("the trajectory buffer", function()
    local b = vim.api.nvim_get_current_buf()
    return vim.b[b].zwarm_session_id and b or nil
  end)
  T.wait("the running session's first step", function()
    return text(buf):find("planning the change", 1, true)
  end)

  local before = #drawn
  vim.api.nvim_feedkeys("r", "x", false)
  T.wait("a redraw after r", function()
    return #drawn > before
  end)
  T.results.refreshed = true

  vim.api.nvim_feedkeys("x", "x", false)
  T.wait("the header to say killed after x", function()
    return T.lines(buf)[1]:find(": killed", 1, true)
  end)
  T.results.killed_head = T.lines(buf)[1]

  local prompts = {}
  vim.ui.input = function(opts, on_confirm)
    prompts[#prompts + 1] = opts.prompt
    on_confirm("now say hi")
  end
  vim.api.nvim_feedkeys("c", "x", false)
  T.wait("the second turn to complete in the buffer", function()
    local t = text(buf)
    return T.lines(buf)[1]:find(": completed", 1, true) and t:find("done: now say hi", 1, true)
  end)
  T.results.prompts = prompts
  T.results.converse = T.notified(result.shortId .. ": turn 2", true).msg
  T.results.current = vim.api.nvim_get_current_buf() == buf
end)
