-- Inline status: the daemon's code lens titles drawn as virtual text at each
-- session's anchor, and signs on the lines agents changed (zwarm/decorations).
-- Everything shown is text the daemon made; this module only places it.
local client = require("zwarm.client")
local config = require("zwarm.config")

local M = {}

M.ns = vim.api.nvim_create_namespace("zwarm")

-- Highlight groups per session status; users can override them (they are `default`).
M.status_hl = {
  pending = "ZwarmPending",
  running = "ZwarmRunning",
  completed = "ZwarmCompleted",
  failed = "ZwarmFailed",
  killed = "ZwarmKilled",
}

-- Every group the plugin draws with, and what it links to unless the user set it.
M.highlight_links = {
  ZwarmPending = "DiagnosticHint",
  ZwarmRunning = "DiagnosticInfo",
  ZwarmCompleted = "DiagnosticOk",
  ZwarmFailed = "DiagnosticError",
  ZwarmKilled = "Comment",
  ZwarmLens = "LspCodeLens",
  ZwarmChangedLine = "DiffChange",
}

function M.define_highlights()
  for group, target in pairs(M.highlight_links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

---@type table<integer, uv.uv_timer_t>
local timers = {}

local function status_of(session_id)
  local s = require("zwarm.sessions").cache[session_id]
  return s and s.status or nil
end

local function clamp(bufnr, line)
  return math.max(0, math.min(line, vim.api.nvim_buf_line_count(bufnr) - 1))
end

---@param bufnr integer
---@param lenses table[] lsp.CodeLens from the daemon
local function draw_lenses(bufnr, lenses)
  local by_line = {}
  for _, lens in ipairs(lenses) do
    if lens.command then
      local line = clamp(bufnr, lens.range.start.line)
      local args = lens.command.arguments or {}
      local id = args[1] and args[1].sessionId
      local hl = M.status_hl[status_of(id) or ""] or "ZwarmLens"
      by_line[line] = by_line[line] or {}
      table.insert(by_line[line], { lens.command.title, hl, id })
    end
  end
  local above = config.options.inline.position == "above"
  for line, chunks in pairs(by_line) do
    local opts = { priority = 200, hl_mode = "combine" }
    if above then
      local lines = {}
      for _, c in ipairs(chunks) do
        local indent = vim.fn.indent(line + 1)
        lines[#lines + 1] = { { string.rep(" ", indent) .. c[1], c[2] } }
      end
      opts.virt_lines, opts.virt_lines_above = lines, true
    else
      local text = { { "  ", "ZwarmLens" } }
      for i, c in ipairs(chunks) do
        if i > 1 then
          text[#text + 1] = { "  ", "ZwarmLens" }
        end
        text[#text + 1] = { c[1], c[2] }
      end
      opts.virt_text, opts.virt_text_pos = text, "eol"
    end
    vim.api.nvim_buf_set_extmark(bufnr, M.ns, line, 0, opts)
  end
end

---@param bufnr integer
---@param decorations table[] Decoration from zwarm/decorations
local function draw_decorations(bufnr, decorations)
  local inline = config.options.inline
  if not inline.signs and not inline.line_highlight then
    return
  end
  local last = vim.api.nvim_buf_line_count(bufnr) - 1
  local done = {}
  -- Newest decoration last, so the latest session's status wins on a line.
  for i = #decorations, 1, -1 do
    local d = decorations[i]
    local hl = M.status_hl[d.status] or "ZwarmLens"
    -- Ranges are inclusive of their end line, as the daemon's hover treats them.
    for line = math.max(0, d.range.start.line), math.min(d.range["end"].line, last) do
      if not done[line] then
        done[line] = true
        vim.api.nvim_buf_set_extmark(bufnr, M.ns, line, 0, {
          sign_text = inline.signs and inline.sign_text or nil,
          sign_hl_group = hl,
          line_hl_group = inline.line_highlight and "ZwarmChangedLine" or nil,
          priority = 10,
        })
      end
    end
  end
end

--- Ask the daemon for this buffer's lenses and decorations, then redraw both at once
--- (clearing first would flicker while the answers are on their way).
---@param bufnr integer
function M.render(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) or not config.options.inline.enabled then
    return
  end
  if not vim.lsp.get_clients({ name = client.NAME, bufnr = bufnr })[1] then
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local got = {}
  local function draw()
    if not (got.lenses and got.decorations) or not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
    draw_decorations(bufnr, got.decorations)
    draw_lenses(bufnr, got.lenses)
    require("zwarm.review").redraw_after_clear(bufnr)
    vim.api.nvim_exec_autocmds("User", { pattern = "ZwarmInlineDrawn", data = { bufnr = bufnr }, modeline = false })
  end
  local opts = { bufnr = bufnr }
  client.request("textDocument/codeLens", { textDocument = { uri = uri } }, function(result)
    got.lenses = result or {}
    draw()
  end, opts)
  client.request("zwarm/decorations", { uri = uri }, function(result)
    got.decorations = result and result.decorations or {}
    draw()
  end, opts)
end

--- Redraw a buffer soon; bursts of updates collapse into one redraw. The first update
--- of a burst sets the time: restarting the wait on every update would never redraw
--- while an agent streams steps faster than the wait.
---@param bufnr integer
function M.refresh(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    timers[bufnr] = timer
  end
  if timer:is_active() then
    return
  end
  timer:start(config.options.inline.debounce_ms, 0, vim.schedule_wrap(function()
    M.render(bufnr)
  end))
end

--- Redraw every loaded buffer the given client (or any zwarm client) is attached to.
---@param client_id? integer
function M.refresh_all(client_id)
  local clients = client_id and { vim.lsp.get_client_by_id(client_id) }
    or vim.lsp.get_clients({ name = client.NAME })
  for _, c in ipairs(clients) do
    for bufnr in pairs(c.attached_buffers or {}) do
      M.refresh(bufnr)
    end
  end
end

function M.forget(bufnr)
  local timer = timers[bufnr]
  if timer then
    timer:stop()
    timer:close()
    timers[bufnr] = nil
  end
end

return M
