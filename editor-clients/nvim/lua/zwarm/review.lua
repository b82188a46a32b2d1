-- Reviewing change sets: the hunks of a session in the quickfix list, a diff tab of a
-- file's base and result, accept/reject of the hunk under the cursor (or a range, or
-- all), signs for hunks awaiting a decision, ]z / [z between them, and blame as
-- virtual text. Every decision is the daemon's (zwarm/sessionChanges, applyChanges,
-- discardChanges, fileContent, blame); an accepted hunk arrives as workspace/applyEdit,
-- so `u` undoes it.
local client = require("zwarm.client")
local sessions = require("zwarm.sessions")

local M = {}

-- The plugin's one namespace (inline status draws in it too): review marks are tracked
-- by id, so each part clears only its own.
M.ns = require("zwarm.inline").ns
M.blame_ns = M.ns
---@type table<integer, {signs: integer[], blame: integer[]}>
local marks = {}

local function own(bufnr)
  marks[bufnr] = marks[bufnr] or { signs = {}, blame = {} }
  return marks[bufnr]
end

local function clear(bufnr, kind)
  for _, id in ipairs(own(bufnr)[kind]) do
    pcall(vim.api.nvim_buf_del_extmark, bufnr, M.ns, id)
  end
  own(bufnr)[kind] = {}
end

--- The ids of this buffer's review marks of `kind` ("signs" or "blame").
---@param bufnr integer
---@param kind "signs"|"blame"
---@return integer[]
function M.mark_ids(bufnr, kind)
  return own(bufnr)[kind]
end

-- Hunks waiting for a decision. Applied hunks are lines an agent wrote, which the
-- inline status already marks (|zwarm-inline|, from the daemon's blame).
M.signs = {
  pending = { text = "┃", hl = "ZwarmHunkPending" },
  conflict = { text = "!", hl = "ZwarmHunkConflict" },
}
M.highlight_links = {
  ZwarmHunkPending = "DiffAdd",
  ZwarmHunkConflict = "DiagnosticWarn",
  ZwarmBlame = "Comment",
}

-- Pure state: the hunks known per file path, each {session_id, short_id, hunk, lnum},
-- and the session last opened with :Zwarm changes (whose hunks win on a shared line).
---@type table<string, table[]>
M.by_path = {}
---@type string|nil
M.focus = nil

function M.define_highlights()
  for group, target in pairs(M.highlight_links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

--- Where a hunk is in the user's file (1-based): a pending hunk is not there yet, so it
--- sits where it would land (its old range); an applied one is at its new range.
---@param hunk table Hunk
---@return integer
function M.hunk_line(hunk)
  local range = hunk.state == "applied" and hunk.newRange or hunk.oldRange
  return range.start.line + 1
end

--- Quickfix items for a change set (pure, so it is tested on its own).
---@param changes table SessionChangesResult
---@return table[]
function M.qf_items(changes)
  local items = {}
  for _, f in ipairs(changes.files or {}) do
    for _, h in ipairs(f.hunks or {}) do
      items[#items + 1] = {
        filename = vim.uri_to_fname(f.path),
        lnum = M.hunk_line(h),
        text = ("[%s] %s t%d +%d -%d %s%s"):format(h.state, changes.shortId, h.turn,
          h.added, h.removed, h.preview, h.mixed and " (mixed)" or ""),
        type = h.state == "conflict" and "W" or "I",
        user_data = { session_id = changes.sessionId, hunk_id = h.id },
      }
    end
  end
  return items
end

--- Remember a change set's hunks per file, and redraw the signs of open buffers.
---@param changes table SessionChangesResult
function M.remember(changes)
  for path, list in pairs(M.by_path) do
    M.by_path[path] = vim.tbl_filter(function(e)
      return e.session_id ~= changes.sessionId
    end, list)
  end
  for _, f in ipairs(changes.files or {}) do
    local path = vim.uri_to_fname(f.path)
    M.by_path[path] = M.by_path[path] or {}
    for _, h in ipairs(f.hunks or {}) do
      table.insert(M.by_path[path], {
        session_id = changes.sessionId, short_id = changes.shortId, hunk = h,
        lnum = M.hunk_line(h),
      })
    end
  end
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.draw(buf)
    end
  end
end

---@param bufnr integer
---@return table[] hunks of this buffer's file, by line
function M.hunks_of(bufnr)
  local list = vim.deepcopy(M.by_path[vim.api.nvim_buf_get_name(bufnr)] or {})
  table.sort(list, function(a, b)
    return a.lnum < b.lnum
  end)
  return list
end

--- Signs for the hunks awaiting a decision (and those applied), in our own namespace.
---@param bufnr integer
function M.draw(bufnr)
  clear(bufnr, "signs")
  local last = vim.api.nvim_buf_line_count(bufnr)
  for _, e in ipairs(M.hunks_of(bufnr)) do
    local sign = M.signs[e.hunk.state]
    if sign then
      for line = e.lnum, math.min(e.lnum, last) do
        table.insert(own(bufnr).signs, vim.api.nvim_buf_set_extmark(bufnr, M.ns, line - 1, 0, {
          sign_text = sign.text, sign_hl_group = sign.hl, priority = 20,
        }))
      end
    end
  end
end

--- Inline status just cleared the shared namespace: the review's marks are gone too.
---@param bufnr integer
function M.redraw_after_clear(bufnr)
  own(bufnr).signs, own(bufnr).blame = {}, {}
  M.draw(bufnr)
end

--- Fetch a session's change set; `then_fn(changes)` after it is remembered.
---@param session_id string
---@param then_fn? fun(changes: table)
function M.load(session_id, then_fn)
  client.request("zwarm/sessionChanges", { sessionId = session_id }, function(changes)
    M.remember(changes)
    if then_fn then
      then_fn(changes)
    end
  end)
end

--- Reload the change sets of every session that has one (after a push).
function M.refresh_all()
  for id, s in pairs(sessions.cache) do
    if s.changes and (s.changes.files or 0) > 0 then
      M.load(id)
    end
  end
end

--- `:Zwarm changes [id]`: the session's hunks in the quickfix list.
---@param session_id string
function M.changes(session_id)
  M.load(session_id, function(changes)
    M.focus = changes.sessionId
    if not changes.known then
      vim.notify(("zwarm %s: %s"):format(changes.shortId, changes.note or "no change set"),
        vim.log.levels.WARN, { title = "zwarm" })
      return
    end
    vim.fn.setqflist({}, " ", { title = "zwarm changes " .. changes.shortId,
      items = M.qf_items(changes) })
    vim.cmd("copen")
  end)
end

--- `:Zwarm diff [id] [file]`: a tab with the file's base and result, in diff mode.
---@param session_id string
---@param file? string relative path; default: the current buffer's file or the first
function M.diff(session_id, file)
  M.load(session_id, function(changes)
    local current = vim.api.nvim_buf_get_name(0)
    local chosen
    for _, f in ipairs(changes.files or {}) do
      if f.relPath == file or vim.uri_to_fname(f.path) == current then
        chosen = f
      end
    end
    chosen = chosen or (changes.files or {})[1]
    if not chosen then
      return vim.notify("zwarm: no changed files", vim.log.levels.WARN, { title = "zwarm" })
    end
    local texts = {}
    local function show()
      if not (texts.base and texts.result) then
        return
      end
      vim.cmd("tabnew")
      for i, side in ipairs({ "base", "result" }) do
        if i == 2 then
          vim.cmd("rightbelow vsplit")
        end
        local buf = vim.api.nvim_create_buf(false, true)
        vim.api.nvim_buf_set_name(buf, ("zwarm://%s/%s/%s"):format(changes.shortId, side,
          chosen.relPath))
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(texts[side], "\n",
          { plain = true }))
        vim.bo[buf].modifiable = false
        vim.api.nvim_win_set_buf(0, buf)
        vim.cmd("diffthis")
      end
    end
    for _, side in ipairs({ "base", "result" }) do
      local uri = side == "base" and chosen.baseUri or chosen.resultUri
      client.request("zwarm/fileContent", { uri = uri }, function(r)
        texts[side] = (r.text or ""):gsub("\n$", "")
        show()
      end)
    end
  end)
end

--- The hunks a command acts on: the quickfix entry under the cursor, or the hunks of
--- this buffer starting within [line1, line2].
---@return string|nil session_id, string[] hunk_ids
local function targets(line1, line2)
  if vim.bo.buftype == "quickfix" then
    local item = vim.fn.getqflist()[vim.fn.line(".")]
    local data = item and item.user_data
    if type(data) == "table" and data.hunk_id then
      return data.session_id, { data.hunk_id }
    end
    return nil, {}
  end
  -- Hunks of several sessions may sit on one line: the one under review comes first.
  local list = M.hunks_of(0)
  table.sort(list, function(a, b)
    return (a.session_id == M.focus and 0 or 1) < (b.session_id == M.focus and 0 or 1)
  end)
  local session_id, ids = nil, {}
  for _, e in ipairs(list) do
    local last = e.lnum + math.max((e.hunk.state == "applied" and e.hunk.added or 1), 1) - 1
    if e.lnum <= line2 and last >= line1 and (not session_id or e.session_id == session_id) then
      session_id = e.session_id
      ids[#ids + 1] = e.hunk.id
    end
  end
  return session_id, ids
end

--- Report an apply/discard answer: conflicts go to the quickfix list with their reason.
local function report(verb, result)
  local done = result.applied or result.discarded or {}
  if #(result.conflicts or {}) > 0 then
    local items = {}
    for _, c in ipairs(result.conflicts) do
      items[#items + 1] = { filename = vim.uri_to_fname(c.path), lnum = 1, type = "E",
        text = ("conflict %s: %s %s"):format(c.hunkId, c.reason, c.detail or "") }
    end
    vim.fn.setqflist({}, " ", { title = "zwarm conflicts", items = items })
    vim.cmd("copen")
    vim.notify(("zwarm: %d conflict(s); nothing %s"):format(#result.conflicts, verb),
      vim.log.levels.WARN, { title = "zwarm" })
  else
    vim.notify(("zwarm: %s %d hunk(s)"):format(verb, #done), vim.log.levels.INFO,
      { title = "zwarm" })
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "ZwarmReviewed",
    data = { verb = verb, result = result }, modeline = false })
  M.load(result.sessionId)
end

--- `:Zwarm accept|reject [all [id]]`, on the cursor's hunk or a range.
---@param verb "accept"|"reject"
---@param args string[]
---@param cmd table the user command's data (range)
function M.decide(verb, args, cmd)
  local method = verb == "accept" and "zwarm/applyChanges" or "zwarm/discardChanges"
  local done = verb == "accept" and "applied" or "discarded"
  local session_id, ids
  if args[1] == "all" then
    session_id, ids = args[2], nil
    if not session_id then
      local here = M.hunks_of(0)[1]
      session_id = here and here.session_id
    end
  else
    local line1 = cmd.range > 0 and cmd.line1 or vim.fn.line(".")
    local line2 = cmd.range > 0 and cmd.line2 or line1
    session_id, ids = targets(line1, line2)
    if #ids == 0 then
      session_id = nil
    end
  end
  if not session_id then
    return vim.notify("zwarm: no hunk here (:Zwarm changes lists them)", vim.log.levels.WARN,
      { title = "zwarm" })
  end
  client.request(method, { sessionId = session_id, hunkIds = ids }, function(result)
    report(done, result)
  end)
end

--- `]z` / `[z`: the next / previous hunk of this buffer.
---@param forward boolean
function M.jump(forward)
  local line = vim.fn.line(".")
  local list = M.hunks_of(0)
  if not forward then
    list = vim.fn.reverse(list)
  end
  for _, e in ipairs(list) do
    if (forward and e.lnum > line) or (not forward and e.lnum < line) then
      return vim.api.nvim_win_set_cursor(0, { e.lnum, 0 })
    end
  end
end

--- `:Zwarm blame`: who wrote each line, as virtual text (again to hide it).
---@param bufnr? integer
function M.blame(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local shown = #own(bufnr).blame > 0
  clear(bufnr, "blame")
  if shown then
    return
  end
  client.request("zwarm/blame", { uri = vim.uri_from_bufnr(bufnr) }, function(result)
    if not result.known then
      return vim.notify("zwarm: no session changed this file", vim.log.levels.INFO,
        { title = "zwarm" })
    end
    for _, line in ipairs(result.lines or {}) do
      if line.author == "agent" and line.line < vim.api.nvim_buf_line_count(bufnr) then
        table.insert(own(bufnr).blame, vim.api.nvim_buf_set_extmark(bufnr, M.ns, line.line, 0, {
          virt_text = { { ("  %s %s t%d"):format(line.adapter or "agent", line.shortId or "?",
            line.turn or 0), "ZwarmBlame" } },
          virt_text_pos = "eol",
        }))
      end
    end
  end, { bufnr = bufnr })
end

return M
