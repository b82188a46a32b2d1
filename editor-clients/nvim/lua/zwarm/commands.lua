-- `:Zwarm {subcommand}`: each subcommand calls one daemon method and shows its answer.
local client = require("zwarm.client")
local config = require("zwarm.config")
local sessions = require("zwarm.sessions")
local view = require("zwarm.view")

local M = {}

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = "zwarm" })
end

local split_lines = view.split

---@param prompt string
---@param given string|nil
---@param fn fun(text: string)
---@param optional? boolean an empty answer is an answer (only cancelling sends nothing)
local function with_text(prompt, given, fn, optional)
  if given and given ~= "" then
    return fn(given)
  end
  vim.ui.input({ prompt = prompt }, function(text)
    if text and (optional or vim.trim(text) ~= "") then
      fn(text)
    end
  end)
end

-- ----- delegate ---------------------------------------------------------------

--- The selection of `:'<,'>Zwarm delegate` as an LSP range: the columns of the last
--- visual selection when it spans exactly these lines, else whole lines.
---@param bufnr integer
---@param line1 integer
---@param line2 integer
local function selection_range(bufnr, line1, line2)
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ""
  local range = {
    start = { line = line1 - 1, character = 0 },
    ["end"] = { line = line2 - 1, character = #last },
  }
  local vstart, vend = vim.api.nvim_buf_get_mark(bufnr, "<"), vim.api.nvim_buf_get_mark(bufnr, ">")
  if vim.fn.visualmode() == "v" and vstart[1] == line1 and vend[1] == line2 then
    range.start.character = vstart[2]
    range["end"].character = math.min(vend[2] + 1, #last)
  end
  return range
end

--- Delegate a task. `opts.range` ({line1, line2}) anchors it to that selection.
---@param opts {task?: string, adapter?: string, range?: integer[], bufnr?: integer}
function M.delegate(opts)
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local prompt = opts.range and "Delegate the selection (your instruction, optional): "
    or "Delegate task: "
  with_text(prompt, opts.task, function(task)
    local params = {
      task = vim.trim(task) ~= "" and task or nil,
      adapter = opts.adapter or config.options.default_adapter,
      isolation = config.options.isolation,
    }
    if opts.range then
      -- The daemon writes the task text for the selected code (the same text VS Code's
      -- code actions send); `task` is the user's instruction.
      local range = selection_range(bufnr, opts.range[1], opts.range[2])
      params.selection = { uri = vim.uri_from_bufnr(bufnr), range = range }
    end
    client.request("zwarm/delegate", params, function(result)
      vim.api.nvim_exec_autocmds("User", {
        pattern = "ZwarmDelegated", data = { result = result, bufnr = bufnr }, modeline = false,
      })
    end, { bufnr = bufnr })
  end, opts.range ~= nil)
end

---@param result table DelegateResult
function M.announce_delegated(result)
  if result and result.shortId then
    notify(("delegated to %s %s (%s) — :Zwarm trajectory %s"):format(
      result.adapter, result.shortId, result.status, result.shortId))
    -- The daemon started it anyway; the user decides whether it goes on.
    local overlap = require("zwarm.changes").overlap_warning(result)
    if overlap then
      notify(overlap, vim.log.levels.WARN)
    end
  end
end

-- ----- one session ------------------------------------------------------------

---@param session_id string
function M.peek(session_id)
  client.request("zwarm/peekSession", { sessionId = session_id }, function(r)
    local text = r.activity or r.latestMessage or "(nothing yet)"
    notify(("%s %s: %s"):format(r.shortId, r.status, text))
  end)
end

---@param session_id string
function M.check(session_id)
  client.request("zwarm/checkSession", { sessionId = session_id }, function(r)
    local cost = r.costUsd and ("$%.4f"):format(r.costUsd) or "n/a"
    local lines = {
      ("# %s %s: %s"):format(r.adapter, r.shortId, r.status),
      "",
      ("- **task**: %s"):format((r.task or ""):gsub("%s+", " ")),
      ("- **model**: %s  **turn**: %d  **messages**: %d"):format(r.model, r.turn, r.messageCount),
      ("- **cost**: %s  **runtime**: %.1fs"):format(cost, r.runtimeS or 0),
    }
    if r.error then
      vim.list_extend(lines, { "", "> **error**: " .. r.error })
    end
    vim.list_extend(lines, { "", "## Last response", "" })
    vim.list_extend(lines, split_lines(r.response or "_(no response yet)_"))
    view.set(view.scratch("zwarm://check/" .. r.sessionId), lines)
  end)
end

---@param session_id string
---@param message? string
function M.converse(session_id, message)
  with_text("Message to " .. session_id:sub(1, 8) .. ": ", message, function(text)
    client.request("zwarm/converse", { sessionId = session_id, message = text }, function(r)
      notify(("%s: turn %d %s"):format(r.sessionId:sub(1, 8), r.turn, r.status))
    end)
  end)
end

---@param session_id string
function M.end_session(session_id)
  client.request("zwarm/endSession", { sessionId = session_id, reason = "ended from Neovim" }, function(r)
    notify(("%s %s%s"):format(r.sessionId:sub(1, 8), r.status, r.wasRunning and " (was running)" or ""))
  end)
end

-- ----- orchestrator and pilot -------------------------------------------------

---@param task? string
function M.orchestrate(task)
  with_text("Orchestrate: ", task, require("zwarm.runs").orchestrate)
end

---@param message? string
function M.pilot(message)
  with_text("Pilot: ", message, require("zwarm.runs").pilot)
end

-- ----- the :Zwarm command -----------------------------------------------------

local ADAPTERS = { "@codex", "@claude" }

local function needs_id(fn)
  return function(args)
    local id = table.remove(args, 1)
    if not id then
      return notify("a session id is needed (Tab completes it)", vim.log.levels.WARN)
    end
    fn(id, args)
  end
end

--- For review commands: the id given, else the session the cursor's hunk, the diff tab
--- or the last :Zwarm changes names.
local function with_session(fn)
  return function(args)
    local id = table.remove(args, 1) or require("zwarm.review").default_session()
    if not id then
      return notify("which session? give its id (Tab completes it)", vim.log.levels.WARN)
    end
    fn(id, args)
  end
end

local function complete_all(arglead, args)
  if #args == 0 then
    return vim.startswith("all", arglead) and { "all" } or {}
  end
  return #args == 1 and args[1] == "all" and sessions.complete_ids(arglead) or {}
end

---@type table<string, {run: fun(args: string[], cmd: table), complete?: fun(arglead: string, args: string[]): string[]}>
M.subcommands = {
  delegate = {
    run = function(args, cmd)
      local adapter
      if args[1] and args[1]:match("^@") then
        adapter = table.remove(args, 1):sub(2)
      end
      M.delegate({
        task = table.concat(args, " "),
        adapter = adapter,
        range = cmd.range > 0 and { cmd.line1, cmd.line2 } or nil,
      })
    end,
    complete = function(arglead, args)
      return #args == 0 and vim.tbl_filter(function(a)
        return vim.startswith(a, arglead)
      end, ADAPTERS) or {}
    end,
  },
  sessions = {
    run = function(args)
      if args[1] == "qf" then
        sessions.quickfix()
      else
        sessions.pick()
      end
    end,
    complete = function(arglead)
      return vim.startswith("qf", arglead) and { "qf" } or {}
    end,
  },
  trust = { run = function()
    require("zwarm.trust").trust()
  end },
  changes = { run = with_session(function(id)
    require("zwarm.review").changes(id)
  end) },
  diff = { run = with_session(function(id, rest)
    require("zwarm.review").diff(id, rest[1])
  end) },
  accept = { run = function(args, cmd)
    require("zwarm.review").decide("accept", args, cmd)
  end, complete = complete_all },
  reject = { run = function(args, cmd)
    require("zwarm.review").decide("reject", args, cmd)
  end, complete = complete_all },
  blame = { run = function()
    require("zwarm.review").blame()
  end },
  peek = { run = needs_id(M.peek) },
  check = { run = needs_id(M.check) },
  trajectory = { run = needs_id(function(id)
    require("zwarm.trajectory").open(id)
  end) },
  converse = { run = needs_id(function(id, rest)
    M.converse(id, table.concat(rest, " "))
  end) },
  ["end"] = { run = needs_id(M.end_session) },
  orchestrate = { run = function(args)
    M.orchestrate(table.concat(args, " "))
  end },
  pilot = { run = function(args)
    M.pilot(table.concat(args, " "))
  end },
  runs = { run = function()
    require("zwarm.runs").list()
  end },
}

local ID_COMMANDS = { peek = true, check = true, trajectory = true, converse = true, ["end"] = true,
  changes = true, diff = true }

--- Entry point of `:Zwarm`.
---@param cmd table the user-command callback argument
function M.run(cmd)
  require("zwarm").ensure_setup()
  local args = vim.deepcopy(cmd.fargs)
  local name = table.remove(args, 1)
  local sub = name and M.subcommands[name]
  if not sub then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    return notify(("usage: :Zwarm {%s}"):format(table.concat(names, "|")), vim.log.levels.WARN)
  end
  sub.run(args, cmd)
end

--- Completion for `:Zwarm`: subcommands, then session ids or per-command words.
function M.complete(arglead, cmdline, _)
  local rest = cmdline:gsub("^%s*%S*Zwarm!?%s*", "")
  local words = vim.split(rest, "%s+", { trimempty = true })
  if arglead ~= "" then
    table.remove(words)
  end
  if #words == 0 then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    return vim.tbl_filter(function(n)
      return vim.startswith(n, arglead)
    end, names)
  end
  local name = table.remove(words, 1)
  if ID_COMMANDS[name] then
    return #words == 0 and sessions.complete_ids(arglead) or {}
  end
  local sub = M.subcommands[name]
  return sub and sub.complete and sub.complete(arglead, words) or {}
end

return M
