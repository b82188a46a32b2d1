-- The daemon's code actions, through the buffer like any LSP client, and one applied
-- with vim.lsp.buf.code_action().
local T = require("zwarm_test")

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup()
  T.client()
  local uri = vim.uri_from_bufnr(buf)
  local selection = { start = { line = 1, character = 0 }, ["end"] = { line = 2, character = 16 } }
  local diagnostic = {
    range = { start = { line = 2, character = 11 }, ["end"] = { line = 2, character = 16 } },
    message = "unsupported operand type(s) for +: 'NoneType' and 'int'",
    severity = 1,
    source = "mypy",
  }
  local function titles(range, diagnostics)
    local responses = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", {
      textDocument = { uri = uri },
      range = range,
      context = { diagnostics = diagnostics },
    }, T.timeout)
    local out = {}
    for _, response in pairs(responses or {}) do
      for _, action in ipairs(response.result or {}) do
        out[#out + 1] = { title = action.title, command = action.command and action.command.command }
      end
    end
    return out
  end
  T.results.on_selection = titles(selection, {})
  T.results.on_diagnostic = titles(diagnostic.range, { diagnostic })

  -- Apply one the way a user does (the filter picks it, so no menu is shown).
  local delegated = T.capture("ZwarmDelegated")
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.lsp.buf.code_action({
    range = { start = { 2, 0 }, ["end"] = { 3, 15 } },
    filter = function(action)
      return action.title == "Delegate this to Claude"
    end,
    apply = true,
  })
  local result = T.wait("the code action's delegate result", function()
    return delegated[1] and delegated[1].result
  end)
  T.results.applied = result
  T.results.mark = T.wait("the status at the anchor", function()
    return T.find_mark(buf, result.shortId)
  end)
  -- Until it completes the agent may not have logged its invocation yet.
  T.wait("the session to complete", function()
    return T.notified(result.shortId .. " completed")
  end)
end)
