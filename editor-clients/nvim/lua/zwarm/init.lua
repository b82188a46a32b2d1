-- zwarm.nvim: a thin client for the zwarm-ls daemon. It starts the daemon as an LSP
-- server, sends it requests and draws what it answers; session logic lives there.
local config = require("zwarm.config")

local M = {}

local did_setup = false

local function on_session_updated(args)
  local data = args.data
  require("zwarm.sessions").remember(data.session)
  require("zwarm.inline").refresh_all(data.client_id)
  require("zwarm.trajectory").on_update(data.session)
  -- Signs follow the hunks' states; a summary whose counts moved past what we hold
  -- means the change set did too (a changesUpdated may have gone to another client).
  local known = require("zwarm.changes").sets[data.session.id]
  local counts = data.session.changes
  if known and type(counts) == "table" and not vim.deep_equal(counts, known.counts) then
    require("zwarm.review").load(data.session.id)
  end
end

local function is_ours(client_id)
  local c = vim.lsp.get_client_by_id(client_id)
  return c and c.name == require("zwarm.client").NAME
end

local function create_autocmds()
  local group = vim.api.nvim_create_augroup("zwarm", { clear = true })
  local inline = require("zwarm.inline")
  local au = vim.api.nvim_create_autocmd
  if config.options.autostart then
    au({ "BufReadPost", "BufNewFile" }, {
      group = group,
      callback = function(args)
        require("zwarm.client").attach(args.buf)
      end,
    })
  end
  au("User", { group = group, pattern = "ZwarmSessionUpdated", callback = on_session_updated })
  au("User", {
    group = group,
    pattern = "ZwarmChangesUpdated",
    callback = function(args)
      require("zwarm.review").load(args.data.session_id)
      require("zwarm.review").refresh_blame()
      inline.refresh_all(args.data.client_id)
    end,
  })
  au("BufWinEnter", {
    group = group,
    callback = function(args)
      require("zwarm.review").draw(args.buf)
    end,
  })
  au("User", {
    group = group,
    pattern = "ZwarmOrchestratorUpdated",
    callback = function(args)
      require("zwarm.runs").on_update(args.data)
    end,
  })
  au("User", {
    group = group,
    pattern = "ZwarmRefresh",
    callback = function(args)
      inline.refresh_all(args.data and args.data.client_id)
    end,
  })
  au("User", {
    group = group,
    pattern = "ZwarmDelegated",
    callback = function(args)
      require("zwarm.commands").announce_delegated(args.data.result)
    end,
  })
  au("LspAttach", {
    group = group,
    callback = function(args)
      if is_ours(args.data.client_id) then
        inline.refresh(args.buf)
      end
    end,
  })
  -- Changed lines come from the daemon's blame of the buffer against its snapshots: a
  -- write (credited to you) or a reload of a file an agent changed moves them.
  au({ "BufWritePost", "FileChangedShellPost" }, {
    group = group,
    callback = function(args)
      inline.refresh(args.buf)
    end,
  })
  au("BufWipeout", {
    group = group,
    callback = function(args)
      inline.forget(args.buf)
      require("zwarm.review").forget_buffer(args.buf)
    end,
  })
  au("ColorScheme", { group = group, callback = inline.define_highlights })
end

--- Configure the plugin. Safe to call again: options are re-merged from the defaults
--- and the autocmds recreated.
---@param opts? zwarm.Options
function M.setup(opts)
  config.setup(opts)
  did_setup = true
  require("zwarm.inline").define_highlights()
  require("zwarm.review").define_highlights()
  create_autocmds()
  if config.options.keymaps then
    vim.keymap.set("n", "]z", function()
      require("zwarm.review").jump(true)
    end, { desc = "zwarm: next agent hunk to review" })
    vim.keymap.set("n", "[z", function()
      require("zwarm.review").jump(false)
    end, { desc = "zwarm: previous agent hunk to review" })
  end
  -- The anchor lens "Review" points here.
  vim.lsp.commands["zwarm.openChanges"] = function(command)
    local arg = (command.arguments or {})[1] or {}
    if arg.sessionId then
      require("zwarm.review").changes(arg.sessionId)
    end
  end
  -- Code lenses point at this client-side command (the daemon cannot open buffers).
  vim.lsp.commands["zwarm.openTrajectory"] = function(command)
    local arg = (command.arguments or {})[1] or {}
    if arg.sessionId then
      require("zwarm.trajectory").open(arg.sessionId)
    end
  end
  if config.options.autostart then
    -- Buffers opened before setup() ran (lazy loading) attach now.
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        require("zwarm.client").attach(bufnr)
      end
    end
  end
end

--- Commands work without an explicit setup(): defaults then apply.
function M.ensure_setup()
  if not did_setup then
    M.setup({})
  end
end

--- Delegate a task; see `:h zwarm-delegate`.
---@param opts {task?: string, adapter?: string, range?: integer[]}
function M.delegate(opts)
  M.ensure_setup()
  require("zwarm.commands").delegate(opts or {})
end

---@param session_id string
function M.open_trajectory(session_id)
  M.ensure_setup()
  require("zwarm.trajectory").open(session_id)
end

function M.sessions()
  M.ensure_setup()
  require("zwarm.sessions").pick()
end

return M
