-- :Zwarm end on a running session kills it; its trajectory and status say so.
local T = require("zwarm_test")

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup()
  T.client()
  local updates = T.capture("ZwarmSessionUpdated")
  local result = T.delegate("2Zwarm delegate @codex never finishes")
  T.wait("a running status at the anchor", function()
    return T.find_mark(buf, "running")
  end)
  -- The agent's first step: it is up (and has logged its pid), not merely spawned.
  T.wait("the agent's first step", function()
    for _, u in ipairs(updates) do
      if u.session.id == result.sessionId and (u.session.stepCount or 0) > 0 then
        return true
      end
    end
  end)
  -- The session id completes from the daemon.
  T.results.completion = vim.fn.getcompletion("Zwarm end ", "cmdline")
  vim.cmd("Zwarm trajectory " .. result.shortId)
  local traj = T.wait("the trajectory buffer", function()
    local b = vim.api.nvim_get_current_buf()
    return vim.b[b].zwarm_session_id and b or nil
  end)
  vim.cmd("wincmd p")

  vim.cmd("Zwarm end " .. result.shortId)
  T.wait("a killed session update", function()
    for _, u in ipairs(updates) do
      if u.session.id == result.sessionId and u.session.status == "killed" then
        return true
      end
    end
  end)
  T.results.mark = T.wait("the killed status at the anchor", function()
    return T.find_mark(buf, "killed")
  end)
  T.wait("the trajectory to show it was killed", function()
    return T.lines(traj)[1]:find("killed", 1, true)
  end)
  T.results.trajectory_head = T.lines(traj)[1]
  T.results.session = result
end)
