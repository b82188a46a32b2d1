-- The :Zwarm subcommands around one finished session: completion, the picker, the
-- quickfix list, peek, check, converse, and orchestrate/pilot on this daemon.
local T = require("zwarm_test")

local function buffer_named(prefix)
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.startswith(vim.api.nvim_buf_get_name(b), prefix) then
      return b
    end
  end
end

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  T.results.subcommands = vim.fn.getcompletion("Zwarm ", "cmdline")
  T.results.adapters = vim.fn.getcompletion("Zwarm delegate @c", "cmdline")

  local result = T.delegate("3Zwarm delegate @claude explain add")
  T.results.session = result
  T.wait("the completion message", function()
    return T.notified(result.shortId .. " completed")
  end)
  T.results.ids = vim.fn.getcompletion("Zwarm peek ", "cmdline")
  T.results.ids_by_prefix = vim.fn.getcompletion("Zwarm check " .. result.shortId:sub(1, 3), "cmdline")

  -- The picker: the test plays the user and takes the first entry.
  local offered
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(opts.format_item, items)
    on_choice(items[1], 1)
  end
  vim.cmd("Zwarm sessions")
  T.wait("the picked session's trajectory", function()
    return buffer_named("zwarm://trajectory/" .. result.sessionId)
  end)
  T.results.offered = offered

  vim.cmd("Zwarm sessions qf")
  local qf = T.wait("the quickfix list", function()
    local items = vim.fn.getqflist({ title = 1, items = 1 })
    return #items.items > 0 and items or nil
  end)
  T.results.qf = {
    title = qf.title,
    text = qf.items[1].text,
    file = vim.api.nvim_buf_get_name(qf.items[1].bufnr),
    lnum = qf.items[1].lnum,
  }

  vim.cmd("Zwarm peek " .. result.shortId)
  T.results.peek = T.wait("the peek message", function()
    local n = T.notified(result.shortId .. " completed:", true)
    return n and n.msg
  end)

  vim.cmd("Zwarm check " .. result.shortId)
  local check = T.wait("the check buffer", function()
    return buffer_named("zwarm://check/")
  end)
  T.results.check = T.lines(check)

  -- An unknown id is an error from the daemon, shown with its hint.
  vim.cmd("Zwarm peek zzzzzzzz")
  T.results.unknown = T.wait("the unknown-id error", function()
    local n = T.notified("zzzzzzzz")
    return n and n.msg
  end)

  vim.cmd("Zwarm converse " .. result.shortId .. " and now subtract")
  T.results.converse = T.wait("the converse reply", function()
    local n = T.notified(result.shortId .. ": turn 2", true)
    return n and n.msg
  end)

  -- Without an API key the orchestrator run starts and then stops; the pilot answers
  -- with the daemon's error. Either way the user sees something clear.
  vim.cmd("Zwarm orchestrate build the thing")
  local run = T.wait("the orchestrator buffer", function()
    return buffer_named("zwarm://orchestrator/")
  end)
  T.results.orchestrator = T.lines(run)
  vim.cmd("Zwarm pilot hello")
  T.results.pilot = T.wait("the pilot's answer", function()
    local n = T.notified("API key")
    return n and n.msg
  end)
  T.results.pilot_buffer = T.lines(buffer_named("zwarm://pilot"))
  -- A method this daemon lacks (as orchestrate/pilot were before they landed).
  require("zwarm.runs").optional_request("zwarm/notThere", {}, function() end)
  T.results.missing = T.wait("the missing-method message", function()
    local n = T.notified("zwarm/notThere")
    return n and n.msg
  end)

  vim.cmd("Zwarm nonsense")
  T.results.usage = T.notified("usage: :Zwarm").msg
end)
