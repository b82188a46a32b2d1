-- setup() merges options over the defaults each time and recreates its autocmds in
-- one group instead of adding more.
local T = require("zwarm_test")

local function autocmds()
  local out = {}
  for _, a in ipairs(vim.api.nvim_get_autocmds({ group = "zwarm" })) do
    out[#out + 1] = a.event .. (a.pattern ~= "*" and (" " .. a.pattern) or "")
  end
  table.sort(out)
  return out
end

T.run(function()
  local config = require("zwarm.config")
  T.results.command = vim.api.nvim_get_commands({})["Zwarm"] ~= nil
  T.setup({ inline = { position = "above" }, trajectory = { open = "tab" } })
  T.results.first = autocmds()
  T.results.first_position = config.options.inline.position
  T.results.kept_default = config.options.inline.debounce_ms
  T.setup({ autostart = false })
  T.results.second = autocmds()
  T.results.second_position = config.options.inline.position
  T.results.second_open = config.options.trajectory.open
  T.results.highlight = vim.api.nvim_get_hl(0, { name = "ZwarmRunning" }).link
end)
