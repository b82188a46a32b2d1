-- Helpers for the Lua test scripts: waits that fail with a reason, captured
-- notifications, and results written as JSON for pytest to assert on.
local T = {}

T.results = { notifications = {} }
T.timeout = tonumber(os.getenv("ZWARM_TEST_TIMEOUT_MS") or "") or 60000 -- generous: a loaded 2-core machine is slow, and waits end on conditions

-- Keep every vim.notify message; the plugin reports through it.
vim.notify = function(msg, level)
  table.insert(T.results.notifications, { msg = msg, level = level or vim.log.levels.INFO })
end

function T.env(name)
  return assert(os.getenv(name), "missing env " .. name)
end

--- Wait until `cond()` is truthy; fail the test with `what` if it never is.
function T.wait(what, cond, timeout)
  local value
  local ok = vim.wait(timeout or T.timeout, function()
    value = cond()
    return value
  end, 20)
  if not ok then
    error("timed out waiting for " .. what, 2)
  end
  return value
end

function T.client()
  return T.wait("the zwarm client to initialize", function()
    local c = vim.lsp.get_clients({ name = "zwarm" })[1]
    return c and c.initialized and c or nil
  end)
end

--- Standard setup: the daemon command from the environment.
function T.setup(extra)
  require("zwarm").setup(vim.tbl_deep_extend("force", {
    cmd = { T.env("ZWARM_LS"), "serve" },
  }, extra or {}))
end

--- Fired after the plugin's User autocmd `pattern` with data; returns a getter.
function T.capture(pattern)
  local seen = {}
  vim.api.nvim_create_autocmd("User", {
    pattern = pattern,
    callback = function(args)
      table.insert(seen, args.data or {})
    end,
  })
  return seen
end

--- Run a `:Zwarm delegate` command line; wait for and return the daemon's result.
function T.delegate(command, what)
  local delegated = T.capture("ZwarmDelegated")
  vim.cmd(command)
  return T.wait(what or "the delegate result", function()
    return delegated[1] and delegated[1].result
  end)
end

function T.extmarks(bufnr)
  local ns = require("zwarm.inline").ns
  local out = {}
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })) do
    local d = m[4]
    local text = {}
    for _, chunk in ipairs(d.virt_text or {}) do
      text[#text + 1] = chunk[1]
    end
    for _, vline in ipairs(d.virt_lines or {}) do
      for _, chunk in ipairs(vline) do
        text[#text + 1] = chunk[1]
      end
    end
    out[#out + 1] = {
      row = m[2],
      text = table.concat(text),
      hl = d.virt_text and d.virt_text[#d.virt_text][2] or nil,
      above = d.virt_lines_above or nil,
      sign = d.sign_text,
      sign_hl = d.sign_hl_group,
    }
  end
  return out
end

--- The first extmark with virtual text that contains `needle`.
function T.find_mark(bufnr, needle)
  for _, m in ipairs(T.extmarks(bufnr)) do
    if m.text:find(needle, 1, true) then
      return m
    end
  end
end

function T.lines(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
end

--- The rendered screen (what a terminal would show), one string per row.
function T.screen()
  vim.cmd("redraw!")
  local rows = {}
  for r = 1, vim.o.lines do
    local cells = {}
    for c = 1, vim.o.columns do
      cells[#cells + 1] = vim.fn.screenstring(r, c)
    end
    rows[#rows + 1] = (table.concat(cells):gsub("%s+$", ""))
  end
  return rows
end

--- In a real terminal (test_screen_dump.py sets ZWARM_SIGNALS): draw, tell the test
--- that stage `name` is on the screen, and wait until it has captured it. Headless, a
--- no-op.
function T.stage(name)
  local signals = os.getenv("ZWARM_SIGNALS")
  if not signals then
    return
  end
  vim.api.nvim_exec2("redraw!", {})
  local f = assert(io.open(signals .. "/" .. name .. ".ready", "w"))
  f:write(name)
  f:close()
  T.wait("the test to capture the " .. name .. " screen", function()
    return vim.uv.fs_stat(signals .. "/" .. name .. ".captured") ~= nil
  end, 240000)
end

--- The first notification containing `needle` (or starting with it, if `at_start`).
function T.notified(needle, at_start)
  for _, n in ipairs(T.results.notifications) do
    local at = n.msg:find(needle, 1, true)
    if at and (not at_start or at == 1) then
      return n
    end
  end
end

local function write(results)
  local f = assert(io.open(T.env("ZWARM_TEST_RESULTS"), "w"))
  f:write(vim.json.encode(results))
  f:close()
end

--- Run the test body; write results (or the error) and quit with a matching code.
function T.run(body)
  local ok, err = xpcall(body, debug.traceback)
  if not ok then
    T.results.error = err
  end
  T.results.messages = vim.api.nvim_exec2("messages", { output = true }).output
  write(T.results)
  for _, c in ipairs(vim.lsp.get_clients()) do
    c:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  vim.cmd(ok and "qa!" or "cq!")
end

return T
