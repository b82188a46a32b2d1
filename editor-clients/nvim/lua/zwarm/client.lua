-- The one place that talks to the daemon: starting and attaching the LSP client,
-- requests with readable errors, and turning server pushes into `User` autocmds that
-- the rendering modules listen to.
local config = require("zwarm.config")

local M = {}

M.NAME = "zwarm"
M.METHOD_NOT_FOUND = -32601

local has_011 = vim.fn.has("nvim-0.11") == 1

-- 0.11 made client methods colon-callable; 0.10 only has closures taking no self.
local function call(client, method, ...)
  if has_011 then
    return client[method](client, ...)
  end
  return client[method](...)
end

local function emit(pattern, data)
  vim.api.nvim_exec_autocmds("User", { pattern = pattern, data = data, modeline = false })
end

local LEVELS = {
  [1] = vim.log.levels.ERROR,
  [2] = vim.log.levels.WARN,
  [3] = vim.log.levels.INFO,
  [4] = vim.log.levels.DEBUG,
}

local handlers = {
  -- Push, don't poll: every session change arrives here and is fanned out.
  ["zwarm/sessionUpdated"] = function(_, params, ctx)
    if params and params.session then
      emit("ZwarmSessionUpdated", {
        client_id = ctx.client_id,
        session = params.session,
        new_steps = params.newSteps or {},
      })
    end
  end,
  -- A session's change set moved (a snapshot, an apply or a discard).
  ["zwarm/changesUpdated"] = function(_, params, ctx)
    if params and params.sessionId then
      emit("ZwarmChangesUpdated", { client_id = ctx.client_id, session_id = params.sessionId,
                                    counts = params.counts })
    end
  end,
  ["zwarm/orchestratorUpdated"] = function(_, params)
    if params and params.runId then
      emit("ZwarmOrchestratorUpdated", params)
    end
  end,
  ["window/showMessage"] = function(err, params, ctx)
    if not config.options.notify then
      return vim.lsp.handlers["window/showMessage"](err, params, ctx)
    end
    local message = require("zwarm.trust").offer(params.message) or params.message
    vim.notify(message, LEVELS[params.type] or vim.log.levels.INFO, { title = "zwarm" })
  end,
  -- We advertise refresh support so the daemon tells us when anchors change; our
  -- inline status is drawn from the same lenses.
  ["workspace/codeLens/refresh"] = function(_, _, ctx)
    emit("ZwarmRefresh", { client_id = ctx.client_id })
    return vim.NIL
  end,
}

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.workspace = caps.workspace or {}
  caps.workspace.codeLens = { refreshSupport = true }
  return caps
end

--- The workspace root for a buffer (or the cwd when it has no marker above it).
---@param bufnr? integer
---@return string
function M.root_for(bufnr)
  bufnr = bufnr or 0
  local root = vim.fs.root(bufnr, config.options.root_markers)
  return vim.fs.normalize(root or vim.fn.getcwd())
end

---@param root string
function M.client_config(root)
  return {
    name = M.NAME,
    cmd = config.cmd(),
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = config.options.init_options,
    capabilities = capabilities(),
    handlers = handlers,
    commands = {
      -- Code actions carry `zwarm.delegate` for the server to run; we send it on
      -- ourselves so the new session's id can be shown.
      ["zwarm.delegate"] = function(command, ctx)
        M.request("workspace/executeCommand", command, function(result)
          emit("ZwarmDelegated", { result = result, bufnr = ctx.bufnr })
        end, { bufnr = ctx.bufnr })
      end,
    },
  }
end

--- Why the daemon cannot be started, or nil when its command is executable.
---@return string|nil
function M.cmd_problem()
  local cmd = config.cmd()
  if vim.fn.executable(cmd[1]) == 1 then
    return nil
  end
  return ("zwarm: daemon `%s` not found; install zwarm-ls or set `cmd` in setup() (see :checkhealth zwarm)"):format(
    cmd[1]
  )
end

local function start(root, bufnr)
  local problem = M.cmd_problem()
  if problem then
    vim.notify_once(problem, vim.log.levels.ERROR, { title = "zwarm" })
    return nil
  end
  local cfg = M.client_config(root)
  if bufnr then
    return vim.lsp.start(cfg, { bufnr = bufnr })
  end
  if has_011 then
    return vim.lsp.start(cfg, { attach = false })
  end
  return vim.lsp.start_client(cfg)
end

--- Attach the daemon to a file buffer (starting it for that root if needed).
---@param bufnr integer
---@return integer|nil client id
function M.attach(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  return start(M.root_for(bufnr), bufnr)
end

--- Our client for a buffer: the one attached to it, else one for the cwd's root,
--- else any running zwarm client.
---@param bufnr? integer
---@return vim.lsp.Client|nil
function M.get(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local attached = vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr })
  if attached[1] then
    return attached[1]
  end
  local all = vim.lsp.get_clients({ name = M.NAME })
  local root = M.root_for(bufnr)
  for _, client in ipairs(all) do
    if client.root_dir and vim.fs.normalize(client.root_dir) == root then
      return client
    end
  end
  return all[1]
end

--- Our client for a buffer, starting one (detached for non-file buffers) if none runs.
---@param bufnr? integer
---@return vim.lsp.Client|nil
function M.ensure(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.get(bufnr)
  if client then
    return client
  end
  local id = M.attach(bufnr) or start(M.root_for(bufnr), nil)
  return id and vim.lsp.get_client_by_id(id) or nil
end

--- Run `fn(client)` once the client has finished its handshake; requests sent
--- earlier would reach a daemon whose session index is not loaded yet.
---@param bufnr integer|nil
---@param fn fun(client: vim.lsp.Client)
function M.with_client(bufnr, fn)
  local client = M.ensure(bufnr)
  if not client then
    return
  end
  if client.initialized then
    return fn(client)
  end
  local timer = assert(vim.uv.new_timer())
  local waited = 0
  timer:start(20, 20, vim.schedule_wrap(function()
    waited = waited + 20
    if client.initialized or call(client, "is_stopped") or waited > 30000 then
      timer:stop()
      timer:close()
      if client.initialized then
        fn(client)
      else
        vim.notify("zwarm: the daemon did not start; see :checkhealth zwarm and :LspLog",
          vim.log.levels.ERROR, { title = "zwarm" })
      end
    end
  end))
end

--- A readable line for a JSON-RPC error: the daemon's message and its hint.
---@param err table
---@param method string
---@return string
function M.describe_error(err, method)
  if err.code == M.METHOD_NOT_FOUND then
    return ("zwarm: this daemon does not support %s yet (update zwarm-ls)"):format(method)
  end
  local text = "zwarm: " .. (err.message or vim.inspect(err))
  local hint = type(err.data) == "table" and err.data.hint or nil
  if hint and hint ~= vim.NIL then
    text = text .. " (" .. hint .. ")"
  end
  return text
end

-- An empty Lua table encodes as a JSON array; the daemon wants an object.
local function object(params)
  if params == nil or (type(params) == "table" and next(params) == nil) then
    return vim.empty_dict()
  end
  return params
end

---@class zwarm.RequestOpts
---@field bufnr? integer
---@field on_error? fun(err: table): boolean|nil  return true when handled

--- Send a request; `on_result` gets the result, errors are shown with vim.notify
--- unless `opts.on_error` handles them.
---@param method string
---@param params table
---@param on_result fun(result: any)
---@param opts? zwarm.RequestOpts
function M.request(method, params, on_result, opts)
  opts = opts or {}
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  M.with_client(bufnr, function(client)
    call(client, "request", method, object(params), function(err, result)
      if err then
        if not (opts.on_error and opts.on_error(err)) then
          vim.notify(M.describe_error(err, method), vim.log.levels.ERROR, { title = "zwarm" })
        end
        return
      end
      on_result(result)
    end, bufnr)
  end)
end

--- A blocking request, for command-line completion only; nil on any failure.
---@param method string
---@param params table
---@param timeout_ms integer
function M.request_sync(method, params, timeout_ms)
  local client = M.get()
  if not client or not client.initialized then
    return nil
  end
  local response = call(client, "request_sync", method, object(params), timeout_ms, 0)
  return response and not response.err and response.result or nil
end

return M
