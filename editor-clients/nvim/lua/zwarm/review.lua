-- Reviewing change sets: the hunks of a session in the quickfix list, a diff tab of a
-- file's base and result, accept/reject of the hunk under the cursor (or a range, or
-- all), signs for hunks awaiting a decision, ]z / [z between them, and blame as
-- virtual text. Every decision is the daemon's (zwarm/sessionChanges, applyChanges,
-- discardChanges, fileContent, blame); an accepted hunk arrives as workspace/applyEdit,
-- so `u` undoes it. What is known of the change sets lives in zwarm.changes; this
-- module asks and draws.
local changes = require("zwarm.changes")
local client = require("zwarm.client")
local sessions = require("zwarm.sessions")

local M = {}

local SESSION_NOT_FOUND = -32001

-- The plugin's one namespace (inline status draws in it too): review marks are tracked
-- by id, so each part clears only its own.
M.ns = require("zwarm.inline").ns
---@type table<integer, {signs: integer[], blame: integer[], blame_result?: table}>
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

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = "zwarm" })
end

---@param bufnr integer
function M.forget_buffer(bufnr)
  marks[bufnr] = nil
end

--- The ids of this buffer's review marks of `kind` ("signs" or "blame").
---@param bufnr integer
---@param kind "signs"|"blame"
---@return integer[]
function M.mark_ids(bufnr, kind)
  return own(bufnr)[kind]
end

-- In your files, signs mark the hunks that wait for a decision; lines an agent wrote
-- (applied hunks) already carry the inline changed-line sign (|zwarm-inline|). In a
-- diff tab every hunk shows its state.
M.signs = {
  pending = { text = "┃", hl = "ZwarmHunkPending" },
  conflict = { text = "!", hl = "ZwarmHunkConflict" },
  applied = { text = "✓", hl = "ZwarmHunkApplied", diff_only = true },
  discarded = { text = "✗", hl = "ZwarmHunkDiscarded", diff_only = true },
}
M.highlight_links = {
  ZwarmHunkPending = "DiffAdd",
  ZwarmHunkConflict = "DiagnosticWarn",
  ZwarmHunkApplied = "DiagnosticOk",
  ZwarmHunkDiscarded = "Comment",
  ZwarmBlame = "Comment",
}

function M.define_highlights()
  for group, target in pairs(M.highlight_links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

--- Which file a buffer shows and on which side: a diff tab's buffer knows its session
--- and side; any other buffer is the user's file.
---@param bufnr integer
---@return string path, "file"|"base"|"result" side, string|nil session_id
local function where(bufnr)
  local diff = vim.b[bufnr].zwarm_diff
  if type(diff) == "table" then
    return diff.path, diff.side, diff.session_id
  end
  return vim.api.nvim_buf_get_name(bufnr), "file", nil
end

---@param bufnr integer
---@return zwarm.HunkEntry[]
function M.hunks_of(bufnr)
  return changes.entries(where(bufnr))
end

--- Signs for the hunks of this buffer, in the plugin's namespace.
---@param bufnr integer
function M.draw(bufnr)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    return
  end
  clear(bufnr, "signs")
  local _, side = where(bufnr)
  for line, state in pairs(changes.line_states(M.hunks_of(bufnr), side,
    vim.api.nvim_buf_line_count(bufnr))) do
    local sign = M.signs[state]
    if sign and (side ~= "file" or not sign.diff_only) then
      table.insert(own(bufnr).signs, vim.api.nvim_buf_set_extmark(bufnr, M.ns, line - 1, 0, {
        sign_text = sign.text, sign_hl_group = sign.hl, priority = 20,
      }))
    end
  end
end

local function draw_blame(bufnr)
  clear(bufnr, "blame")
  local result = own(bufnr).blame_result
  if not result then
    return
  end
  for _, m in ipairs(changes.blame_marks(result, vim.api.nvim_buf_line_count(bufnr))) do
    table.insert(own(bufnr).blame, vim.api.nvim_buf_set_extmark(bufnr, M.ns, m.line, 0, {
      virt_text = { { m.text, "ZwarmBlame" } }, virt_text_pos = "eol",
    }))
  end
end

--- Inline status just cleared the shared namespace: draw the review's marks again.
---@param bufnr integer
function M.redraw_after_clear(bufnr)
  own(bufnr).signs, own(bufnr).blame = {}, {}
  M.draw(bufnr)
  draw_blame(bufnr)
end

local function draw_all()
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    M.draw(buf)
  end
end

--- Fetch a session's change set; `then_fn(changes)` after it is remembered. A session
--- deleted meanwhile is forgotten and its signs go.
---@param session_id string
---@param then_fn? fun(changes: table)
function M.load(session_id, then_fn)
  client.request("zwarm/sessionChanges", { sessionId = session_id }, function(result)
    changes.remember(result)
    draw_all()
    if then_fn then
      then_fn(result)
    end
  end, {
    on_error = function(err)
      if err.code == SESSION_NOT_FOUND then
        changes.forget(session_id)
        draw_all()
      end
    end,
  })
end

--- Blame again where it is shown (after an apply, a discard or a save moved lines).
function M.refresh_blame()
  for bufnr, m in pairs(marks) do
    if m.blame_result and vim.api.nvim_buf_is_loaded(bufnr) then
      M.blame(bufnr, true)
    end
  end
end

--- The session a command without an id means: the hunk under the cursor's, a diff
--- tab's, the one under review, else the latest with hunks waiting.
---@return string|nil
function M.default_session()
  local _, _, in_diff = where(0)
  if in_diff then
    return in_diff
  end
  local here = changes.targets(M.hunks_of(0), vim.fn.line("."), vim.fn.line("."), "file")
  return here or changes.focus or changes.latest_with_pending(sessions.cache)
end

--- `:Zwarm changes [id]`: the session's hunks in the quickfix list.
---@param session_id string
function M.changes(session_id)
  M.load(session_id, function(result)
    changes.focus = result.sessionId
    if not result.known then
      return notify(("zwarm %s: %s"):format(result.shortId, result.note or "no change set"),
        vim.log.levels.WARN)
    end
    vim.fn.setqflist({}, " ", { title = "zwarm changes " .. result.shortId,
      items = changes.qf_items(result) })
    vim.cmd("botright copen")
  end)
end

local function scratch(name, lines, info)
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == name then
      vim.api.nvim_buf_delete(b, { force = true })
    end
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.b[buf].zwarm_diff = info
  local ft = vim.filetype.match({ filename = info.path, buf = buf })
  if ft then
    vim.bo[buf].filetype = ft
  end
  return buf
end

--- `:Zwarm diff [id] [file]`: a tab with the file's base and result, in diff mode.
---@param session_id string
---@param file? string relative path; default: the current buffer's file or the first
function M.diff(session_id, file)
  local current = where(0)
  M.load(session_id, function(result)
    local chosen
    for _, f in ipairs(result.files or {}) do
      if f.relPath == file or (not file and vim.uri_to_fname(f.path) == current) then
        chosen = f
      end
    end
    if file and not chosen then
      return notify(("zwarm %s did not change %s"):format(result.shortId, file),
        vim.log.levels.WARN)
    end
    chosen = chosen or (result.files or {})[1]
    if not chosen then
      return notify("zwarm: no changed files", vim.log.levels.WARN)
    end
    if chosen.binary then
      return notify(("zwarm: %s is binary; no text to compare"):format(chosen.relPath),
        vim.log.levels.WARN)
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
        local buf = scratch(("zwarm://%s/%s/%s"):format(result.shortId, side, chosen.relPath),
          texts[side], { session_id = result.sessionId, side = side,
            path = vim.uri_to_fname(chosen.path) })
        vim.api.nvim_win_set_buf(0, buf)
        vim.cmd("diffthis")
        M.draw(buf)
      end
    end
    for _, side in ipairs({ "base", "result" }) do
      local uri = side == "base" and chosen.baseUri or chosen.resultUri
      client.request("zwarm/fileContent", { uri = uri }, function(r)
        local text = type(r.text) == "string" and r.text or ""
        texts[side] = vim.split((text:gsub("\n$", "")), "\n", { plain = true })
        show()
      end)
    end
  end)
end

--- The hunks a command acts on: the quickfix entry under the cursor, or the hunks of
--- this buffer (a file or a diff tab side) within [line1, line2].
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
  local _, side = where(0)
  return changes.targets(M.hunks_of(0), line1, line2, side)
end

--- Report an apply/discard answer: conflicts go to the quickfix list with their reason.
local function report(verb, result)
  if #(result.conflicts or {}) > 0 then
    vim.fn.setqflist({}, " ", { title = "zwarm conflicts", items = changes.conflict_items(result) })
    vim.cmd("botright copen")
    notify(("zwarm: %d conflict(s); nothing %s"):format(#result.conflicts, verb),
      vim.log.levels.WARN)
  else
    notify(changes.summary(verb, result))
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
    session_id, ids = args[2] or M.default_session(), nil
  else
    local line1 = cmd.range > 0 and cmd.line1 or vim.fn.line(".")
    local line2 = cmd.range > 0 and cmd.line2 or line1
    session_id, ids = targets(line1, line2)
    if #ids == 0 then
      session_id = nil
    end
  end
  if not session_id then
    return notify("zwarm: no hunk here (:Zwarm changes lists them)", vim.log.levels.WARN)
  end
  client.request(method, { sessionId = session_id, hunkIds = ids }, function(result)
    report(done, result)
  end, {
    -- A hunk gone stale or a session deleted meanwhile: say why, then show what is now
    -- true, so nothing is decided from an old picture.
    on_error = function(err)
      notify(client.describe_error(err, method), vim.log.levels.ERROR)
      M.load(session_id)
      return true
    end,
  })
end

--- `]z` / `[z`: the next / previous hunk of this buffer that waits for a decision.
---@param forward boolean
function M.jump(forward)
  local _, side = where(0)
  local line = changes.next_line(M.hunks_of(0), vim.fn.line("."), forward, side)
  if line then
    vim.api.nvim_win_set_cursor(0, { math.min(line, vim.api.nvim_buf_line_count(0)), 0 })
  end
end

--- `:Zwarm blame`: who wrote each line, as virtual text (again to hide it).
---@param bufnr? integer
---@param again? boolean redraw from a fresh answer instead of toggling
function M.blame(bufnr, again)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if own(bufnr).blame_result and not again then
    own(bufnr).blame_result = nil
    return clear(bufnr, "blame")
  end
  client.request("zwarm/blame", { uri = vim.uri_from_bufnr(bufnr) }, function(result)
    if not vim.api.nvim_buf_is_loaded(bufnr) then
      return
    end
    if not result.known and not again then
      return notify("zwarm: no session changed this file")
    end
    own(bufnr).blame_result = result
    draw_blame(bufnr)
  end, { bufnr = bufnr })
end

return M
