-- :checkhealth zwarm, as text.
local T = require("zwarm_test")

T.run(function()
  local cmd = os.getenv("ZWARM_HEALTH_CMD")
  require("zwarm").setup({ cmd = cmd and { cmd, "serve" } or nil, autostart = false })
  vim.cmd("checkhealth zwarm")
  T.results.report = T.lines(vim.api.nvim_get_current_buf())
end)
