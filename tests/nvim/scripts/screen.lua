-- Runs in a real terminal (tmux) for test_screen_dump.py: the inline status of a
-- visual-selection delegation, first running, then completed. At each stage it
-- redraws, says so in a file, and waits until the test has captured the screen.
local T = require("zwarm_test")

local signals = T.env("ZWARM_SIGNALS")

local function stage(name, short_id)
  vim.api.nvim_exec2("redraw", {})
  local f = assert(io.open(signals .. "/" .. name .. ".ready", "w"))
  f:write(short_id)
  f:close()
  T.wait("the test to capture the " .. name .. " screen", function()
    return vim.uv.fs_stat(signals .. "/" .. name .. ".captured") ~= nil
  end, 240000)
end

T.run(function()
  local release = T.env("ZWARM_RELEASE")
  vim.cmd("edit app.py") -- the editor runs in the project: a short name on the status line
  local buf = vim.api.nvim_get_current_buf()
  T.setup()
  T.client()
  vim.cmd("normal! 2GVj\27")
  local result = T.delegate("'<,'>Zwarm delegate @codex handle None in add")
  T.results.delegated = result
  T.wait("a running status with its step at the anchor", function()
    local m = T.find_mark(buf, result.shortId)
    return m and m.text:find("running", 1, true) and m.text:find("1 step ·", 1, true)
  end)
  stage("running", result.shortId)

  io.open(release, "w"):close()
  T.wait("the completed status", function()
    local m = T.find_mark(buf, result.shortId)
    return m and m.text:find("completed", 1, true)
  end)
  vim.cmd("checktime") -- the agent rewrote app.py; show its new text
  T.wait("signs on the lines the agent wrote", function()
    for _, mark in ipairs(T.extmarks(buf)) do
      if mark.sign then
        return true
      end
    end
  end)
  stage("completed", result.shortId)
end)
