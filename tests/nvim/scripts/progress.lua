-- A running session is standard LSP work-done progress: Neovim's own $/progress
-- handling feeds LspProgress and vim.lsp.status() without any code in the plugin.
local T = require("zwarm_test")

T.run(function()
  local release = T.env("ZWARM_RELEASE")
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  local zwarm = T.client()
  local events = {}
  vim.api.nvim_create_autocmd("LspProgress", {
    callback = function(args)
      if args.data.client_id == zwarm.id then
        local value = args.data.params.value
        events[#events + 1] = {
          kind = value.kind, title = value.title, message = value.message,
        }
      end
    end,
  })
  local result = T.delegate("Zwarm delegate @codex show progress")
  T.results.session = result
  -- Only the status line sees it: vim.lsp.status() aggregates (and consumes) progress.
  local statuses = {}
  T.results.status = T.wait("vim.lsp.status() to mention the session", function()
    local status = vim.lsp.status()
    statuses[#statuses + 1] = status
    return table.concat(statuses, "\n"):find(result.shortId, 1, true) and table.concat(statuses, "\n")
  end)
  T.wait("a progress report with the agent's step", function()
    for _, e in ipairs(events) do
      if e.kind == "report" then
        return true
      end
    end
  end)
  io.open(release, "w"):close()
  T.wait("the progress to end", function()
    return events[#events] and events[#events].kind == "end"
  end)
  T.results.events = events
end)
