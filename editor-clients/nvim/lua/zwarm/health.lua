-- :checkhealth zwarm — can the daemon start here, and can it reach the agent CLIs?
-- The last section shows `zwarm-ls doctor --json` as the CLI reports it.
local config = require("zwarm.config")

local M = {}

local health = vim.health
local HANDSHAKE_TIMEOUT_MS = 20000
-- `zwarm-ls doctor` waits up to DOCTOR_PROBE_S for a Ray worker to take its probe job.
local DOCTOR_PROBE_S = 30
local DOCTOR_TIMEOUT_MS = (DOCTOR_PROBE_S + 30) * 1000
local MIN_PYTHON = { 3, 11 }

local function frame(message)
  local body = vim.json.encode(message)
  return ("Content-Length: %d\r\n\r\n%s"):format(#body, body)
end

--- The first complete JSON-RPC message in `buffer`, or nil while it is still partial.
local function first_message(buffer)
  local header_end = buffer:find("\r\n\r\n", 1, true)
  if not header_end then
    return nil
  end
  local length = tonumber(buffer:sub(1, header_end):match("Content%-Length: (%d+)"))
  local body = length and buffer:sub(header_end + 4, header_end + 3 + length)
  if not body or #body < length then
    return nil
  end
  local ok, decoded = pcall(vim.json.decode, body)
  return ok and decoded or { error = { message = "unreadable reply: " .. body:sub(1, 200) } }
end

--- Start the daemon, send `initialize`, read its answer, shut it down.
---@return table|nil result, string|nil problem
local function handshake(cmd)
  local out, err = {}, {}
  local ok, proc = pcall(vim.system, cmd, {
    stdin = true,
    cwd = vim.fn.getcwd(),
    stdout = function(_, data)
      out[#out + 1] = data
    end,
    stderr = function(_, data)
      err[#err + 1] = data
    end,
  })
  if not ok then
    return nil, tostring(proc)
  end
  proc:write(frame({
    jsonrpc = "2.0",
    id = 1,
    method = "initialize",
    params = {
      processId = vim.uv.os_getpid(),
      rootUri = vim.uri_from_fname(vim.fn.getcwd()),
      capabilities = vim.empty_dict(),
      initializationOptions = next(config.options.init_options) and config.options.init_options
        or vim.empty_dict(),
    },
  }))
  local reply
  vim.wait(HANDSHAKE_TIMEOUT_MS, function()
    reply = first_message(table.concat(out))
    return reply ~= nil or proc:is_closing()
  end, 50)
  if reply and reply.result then
    proc:write(frame({ jsonrpc = "2.0", id = 2, method = "shutdown" }))
    proc:write(frame({ jsonrpc = "2.0", method = "exit" }))
    proc:write(nil)
    if not pcall(proc.wait, proc, 5000) then
      proc:kill(15)
    end
    return reply.result, nil
  end
  proc:kill(15)
  local stderr = vim.trim(table.concat(err)):sub(-400)
  if reply and reply.error then
    return nil, "initialize failed: " .. (reply.error.message or vim.inspect(reply.error))
  end
  return nil, "no answer to initialize" .. (stderr ~= "" and (": " .. stderr) or "")
end

--- The interpreter named on the console script's `#!` line, if it is a Python.
local function script_python(path)
  local f = io.open(path, "r")
  local first = f and f:read("*l") or ""
  if f then
    f:close()
  end
  local interpreter = first:match("^#!%s*(%S+)")
  if interpreter and interpreter:match("python[%d.]*$") then
    return interpreter
  end
end

local function check_python(daemon_path)
  local python = script_python(daemon_path)
  if not python then
    health.info(("could not tell which Python runs %s"):format(daemon_path))
    return
  end
  local res = vim.system({ python, "--version" }, { text = true }):wait()
  local version = vim.trim((res.stdout or "") .. (res.stderr or ""))
  local major, minor = version:match("(%d+)%.(%d+)")
  major, minor = tonumber(major), tonumber(minor)
  if not major then
    health.warn(("%s --version said: %s"):format(python, version))
  elseif major > MIN_PYTHON[1] or (major == MIN_PYTHON[1] and minor >= MIN_PYTHON[2]) then
    health.ok(("%s (%s)"):format(version, python))
  else
    health.error(("%s is too old (%s)"):format(version, python),
      { ("zwarm-ls needs Python %d.%d or newer"):format(MIN_PYTHON[1], MIN_PYTHON[2]) })
  end
end

local function check_neovim()
  health.start("zwarm: Neovim")
  local v = vim.version()
  local text = ("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok(text .. " (0.10 or newer is needed for vim.lsp.start)")
  else
    health.error(text .. " is too old", { "zwarm.nvim needs Neovim 0.10 or newer" })
  end
end

local function check_daemon()
  health.start("zwarm: daemon (zwarm-ls)")
  local cmd = config.cmd()
  local path = vim.fn.exepath(cmd[1])
  if path == "" then
    health.error(("daemon `%s` not found"):format(cmd[1]), {
      "install it into a Python 3.11+ environment: pip install zwarm-ls",
      "or point setup({ cmd = { '/path/to/zwarm-ls', 'serve' } }) at it",
    })
    return
  end
  health.ok(("found %s"):format(path))
  check_python(path)
  local result, problem = handshake(cmd)
  if result then
    local info = result.serverInfo or {}
    health.ok(("starts: %s %s answered initialize"):format(info.name or "server", info.version or ""))
  else
    health.error(("`%s` does not start: %s"):format(table.concat(cmd, " "), problem),
      { "run the command in a terminal to see why", "see :LspLog for a running client" })
  end
  local running = vim.lsp.get_clients({ name = require("zwarm.client").NAME })
  for _, c in ipairs(running) do
    health.info(("client %d running for %s"):format(c.id, c.root_dir or "?"))
  end
end

local AGENTS = {
  { name = "codex", key = "OPENAI_API_KEY", what = "OpenAI Codex CLI" },
  { name = "claude", key = "ANTHROPIC_API_KEY", what = "Claude Code CLI" },
}

local function check_agents()
  health.start("zwarm: agent CLIs")
  local found = 0
  for _, agent in ipairs(AGENTS) do
    local section = config.options.init_options[agent.name] or {}
    local binary = section.binary or agent.name
    local path = vim.fn.exepath(binary)
    if path ~= "" then
      found = found + 1
      health.ok(("%s: %s"):format(agent.what, path))
    else
      health.warn(("%s: `%s` not found; sessions with that adapter cannot start"):format(agent.what, binary),
        { ("install it, or set init_options.%s.binary"):format(agent.name) })
    end
    if vim.env[agent.key] and vim.env[agent.key] ~= "" then
      health.ok(agent.key .. " is set")
    else
      health.warn(agent.key .. " is not set", { ("fine if `%s login` was used instead"):format(agent.name) })
    end
  end
  if found == 0 then
    health.error("no agent CLI found: nothing can be delegated")
  end
end

--- The daemon's command line with `doctor --json` in place of `serve` (and what follows it).
local function doctor_cmd()
  local cmd = {}
  for _, part in ipairs(config.cmd()) do
    if part == "serve" then
      break
    end
    cmd[#cmd + 1] = part
  end
  vim.list_extend(cmd, { "doctor", "--json", "--timeout", tostring(DOCTOR_PROBE_S),
    "--root", vim.fn.getcwd() })
  return cmd
end

local function text_of(value)
  return (value ~= nil and value ~= vim.NIL) and tostring(value) or nil
end

--- The checks `zwarm-ls doctor` made (git, agent CLIs, config, trust, the Ray cluster and
--- its workers), each shown as the CLI judged it: the logic lives in the daemon's package.
local function check_doctor()
  health.start("zwarm: zwarm-ls doctor")
  local cmd = doctor_cmd()
  if vim.fn.executable(cmd[1]) == 0 then
    return health.error(("`%s` not found: cannot run zwarm-ls doctor"):format(cmd[1]))
  end
  local started, proc = pcall(vim.system, cmd, { text = true, cwd = vim.fn.getcwd() })
  if not started then
    return health.error("zwarm-ls doctor did not start: " .. tostring(proc))
  end
  local res = proc:wait(DOCTOR_TIMEOUT_MS)
  local ok, report = pcall(vim.json.decode, res.stdout or "")
  if not ok or type(report) ~= "table" or type(report.checks) ~= "table" then
    local said = vim.trim((res.stderr or "") .. (res.stdout or "")):sub(-400)
    return health.error(("`%s` gave no report (exit %s): %s"):format(
      table.concat(cmd, " "), tostring(res.code), said), { "run it in a terminal to see why" })
  end
  for _, check in ipairs(report.checks) do
    local text = ("%s: %s"):format(text_of(check.name) or "?", text_of(check.message) or "")
    local hint = text_of(check.hint)
    local advice = hint and { hint } or nil
    if check.status == "ok" then
      health.ok(text)
    elseif check.status == "warn" then
      health.warn(text, advice)
    else
      health.error(text, advice)
    end
  end
end

function M.check()
  check_neovim()
  check_daemon()
  check_agents()
  check_doctor()
end

return M
