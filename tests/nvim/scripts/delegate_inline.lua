-- :'<,'>Zwarm delegate on a visual selection: the status shows at the anchor, first
-- running, then completed; signs mark the lines the agent changed.
local T = require("zwarm_test")

T.run(function()
  local release = T.env("ZWARM_RELEASE")
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup()
  T.client()

  -- Select lines 2-3 linewise, as a user would, then run the command on the range.
  vim.cmd("normal! 2GVj\27")
  local result = T.delegate("'<,'>Zwarm delegate @codex handle None in add")
  T.results.delegated = result

  T.results.running = T.wait("a running status at the anchor", function()
    return T.find_mark(buf, "running")
  end)
  T.results.running_screen = T.screen()

  io.open(release, "w"):close()
  T.results.completed = T.wait("the completed status at the anchor", function()
    return T.find_mark(buf, "completed")
  end)
  -- The agent rewrote app.py: once the buffer shows the new text (as after any
  -- reload), the lines the agent wrote get signs.
  vim.cmd("checktime")
  T.wait("signs on changed lines", function()
    for _, m in ipairs(T.extmarks(buf)) do
      if m.sign then
        return true
      end
    end
  end)
  T.results.marks = T.extmarks(buf)
  T.results.completed_screen = T.screen()
  T.results.lines = T.lines(buf)
  local namespaces = {}
  for name in pairs(vim.api.nvim_get_namespaces()) do
    -- Neovim names its own per-client namespaces vim.lsp.<client>.<id>.
    if name:lower():find("zwarm", 1, true) and not vim.startswith(name, "vim.") then
      namespaces[#namespaces + 1] = name
    end
  end
  T.results.namespaces = namespaces
end)
