-- :Zwarm delegate without a task prompts for one; cancelling sends nothing. A
-- characterwise selection keeps its columns in the anchor; the status is drawn as a
-- virtual line above it.
local T = require("zwarm_test")

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup({ inline = { position = "above" } })
  T.client()
  local delegated = T.capture("ZwarmDelegated")
  local updates = T.capture("ZwarmSessionUpdated")
  local prompts, answer = {}, nil
  vim.ui.input = function(opts, on_confirm)
    prompts[#prompts + 1] = opts.prompt
    on_confirm(answer)
  end

  vim.cmd("Zwarm delegate")
  T.results.after_cancel = #delegated

  answer = "rename it to plus"
  vim.cmd("normal! gg0fav$\27") -- `add(a, b):` on line 1, characterwise
  vim.cmd("'<,'>Zwarm delegate @codex")
  local result = T.wait("the delegate result", function()
    return delegated[1] and delegated[1].result
  end)
  T.results.delegated = result
  T.results.prompts = prompts
  T.results.anchor = T.wait("the session's anchor from the daemon", function()
    for _, u in ipairs(updates) do
      if u.session.id == result.sessionId and u.session.anchor then
        return u.session.anchor
      end
    end
  end)
  T.results.mark = T.wait("the status at the anchor", function()
    return T.find_mark(buf, result.shortId)
  end)
  T.wait("the session to complete", function()
    return T.notified(result.shortId .. " completed")
  end)

  -- On a selection the instruction is optional: an empty answer still delegates, and
  -- the daemon writes the whole task from the selected lines.
  answer = ""
  vim.cmd("normal! 2GVj\27")
  local bare = T.delegate("'<,'>Zwarm delegate @codex", "the delegate without instruction")
  T.wait("the bare session's summary", function()
    return require("zwarm.sessions").cache[bare.sessionId]
  end)
  -- The summary carries a preview of the task; checkSession has it whole.
  local client = vim.lsp.get_clients({ name = "zwarm" })[1]
  local checked = client:request_sync("zwarm/checkSession", { sessionId = bare.sessionId },
    20000)
  T.results.bare_task = checked and checked.result and checked.result.task
  T.wait("the bare session to complete", function()
    return T.notified(bare.shortId .. " completed")
  end)
end)
