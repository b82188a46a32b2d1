-- The change sets the client has been told about and what to show of them: where each
-- hunk sits, quickfix items, which hunks a line or a range names, the next hunk to
-- visit, blame text. Pure state and functions (no requests, no drawing), so they are
-- tested on their own; review.lua asks the daemon and draws.
local M = {}

-- States that still wait for the user's decision.
M.AWAITING = { pending = true, conflict = true }

---@class zwarm.HunkEntry
---@field session_id string
---@field short_id string
---@field hunk table Hunk from zwarm/sessionChanges
---@field file table the FileChange holding it

---@type table<string, zwarm.HunkEntry[]> file path -> hunks of every known session
M.by_path = {}
---@type table<string, table> session id -> its last SessionChangesResult
M.sets = {}
-- The session last opened with :Zwarm changes; its hunks win on a shared line.
---@type string|nil
M.focus = nil

function M.reset()
  M.by_path, M.sets, M.focus = {}, {}, nil
end

--- The lines (1-based, inclusive) a hunk covers in one of three texts: "base" (before
--- the session), "result" (after it), or "file", the user's file, where a hunk not
--- applied yet sits where it would land (its old range) and an applied one at its new
--- range. Ranges are 0-based with an exclusive end; an empty one is an insertion or
--- deletion point and still gets the line it points at.
---@param hunk table
---@param side? "file"|"base"|"result"
---@return integer first, integer last
function M.span(hunk, side)
  local range
  if side == "base" then
    range = hunk.oldRange
  elseif side == "result" then
    range = hunk.newRange
  else
    range = hunk.state == "applied" and hunk.newRange or hunk.oldRange
  end
  local first = range.start.line + 1
  return first, math.max(range["end"].line, first)
end

---@param hunk table
---@return integer the first line of the hunk in the user's file
function M.hunk_line(hunk)
  return (M.span(hunk, "file"))
end

---@param changes table SessionChangesResult
---@param hunk table
---@return string
function M.describe(changes, hunk)
  return ("[%s] %s t%d +%d -%d %s%s"):format(hunk.state, changes.shortId, hunk.turn,
    hunk.added, hunk.removed, hunk.preview or "", hunk.mixed and " (mixed)" or "")
end

--- Quickfix items for a change set: one per hunk, at its line in the user's file.
---@param changes table SessionChangesResult
---@return table[]
function M.qf_items(changes)
  local items = {}
  for _, f in ipairs(changes.files or {}) do
    for _, h in ipairs(f.hunks or {}) do
      items[#items + 1] = {
        filename = vim.uri_to_fname(f.path),
        lnum = M.hunk_line(h),
        text = M.describe(changes, h),
        type = h.state == "conflict" and "W" or "I",
        user_data = { session_id = changes.sessionId, hunk_id = h.id },
      }
    end
  end
  return items
end

--- Quickfix items for the conflicts of an apply or discard, with the reason, at the
--- hunk's line when the change set is known.
---@param result table ApplyChangesResult or DiscardChangesResult
---@return table[]
function M.conflict_items(result)
  local where = {}
  for _, f in ipairs((M.sets[result.sessionId] or {}).files or {}) do
    for _, h in ipairs(f.hunks or {}) do
      where[h.id] = M.hunk_line(h)
    end
  end
  local items = {}
  for _, c in ipairs(result.conflicts or {}) do
    local detail = c.detail and c.detail ~= vim.NIL and (": " .. c.detail) or ""
    items[#items + 1] = {
      filename = vim.uri_to_fname(c.path),
      lnum = where[c.hunkId] or 1,
      type = "E",
      text = ("conflict %s %s%s"):format(c.hunkId, c.reason, detail),
      user_data = { session_id = result.sessionId, hunk_id = c.hunkId },
    }
  end
  return items
end

--- One line saying what an apply or discard did, or nil when there is nothing to say
--- beyond the conflicts.
---@param verb "applied"|"discarded"
---@param result table
---@return string
function M.summary(verb, result)
  local done = result[verb] or {}
  local text = ("zwarm: %s %d hunk(s)"):format(verb, #done)
  local skipped = {}
  for _, s in ipairs(result.skipped or {}) do
    skipped[#skipped + 1] = ("%s %s"):format(s.hunkId, s.reason)
  end
  if #skipped > 0 then
    text = text .. "; skipped " .. table.concat(skipped, ", ")
  end
  return text
end

local function drop(session_id)
  M.sets[session_id] = nil
  for path, list in pairs(M.by_path) do
    M.by_path[path] = vim.tbl_filter(function(e)
      return e.session_id ~= session_id
    end, list)
  end
end

--- Remember a change set, replacing what was known of that session.
---@param changes table SessionChangesResult
function M.remember(changes)
  drop(changes.sessionId)
  M.sets[changes.sessionId] = changes
  for _, f in ipairs(changes.files or {}) do
    local path = vim.uri_to_fname(f.path)
    M.by_path[path] = M.by_path[path] or {}
    for _, h in ipairs(f.hunks or {}) do
      table.insert(M.by_path[path], {
        session_id = changes.sessionId, short_id = changes.shortId, hunk = h, file = f,
      })
    end
  end
end

--- Forget a session (deleted, or its change set is gone).
---@param session_id string
function M.forget(session_id)
  drop(session_id)
  if M.focus == session_id then
    M.focus = nil
  end
end

--- Order of hunks: by line, then by session and id (so equal lines sort the same way
--- every time).
---@param a zwarm.HunkEntry
---@param b zwarm.HunkEntry
---@param side? "file"|"base"|"result"
---@return boolean
function M.before(a, b, side)
  local la, lb = M.span(a.hunk, side), M.span(b.hunk, side)
  if la ~= lb then
    return la < lb
  end
  if a.session_id ~= b.session_id then
    return a.session_id < b.session_id
  end
  return a.hunk.id < b.hunk.id
end

--- The hunks of a file (of one session, if given), ordered by their line on `side`.
---@param path string
---@param side? "file"|"base"|"result"
---@param session_id? string
---@return zwarm.HunkEntry[]
function M.entries(path, side, session_id)
  local list = vim.tbl_filter(function(e)
    return session_id == nil or e.session_id == session_id
  end, M.by_path[path] or {})
  table.sort(list, function(a, b)
    return M.before(a, b, side)
  end)
  return list
end

--- The hunks lines [line1, line2] name, all of one session: the one under review when
--- several sessions have a hunk there, else the first one found.
---@param entries zwarm.HunkEntry[]
---@param line1 integer
---@param line2 integer
---@param side? "file"|"base"|"result"
---@return string|nil session_id, string[] hunk_ids
function M.targets(entries, line1, line2, side)
  local ordered = vim.deepcopy(entries)
  table.sort(ordered, function(a, b)
    local fa, fb = a.session_id == M.focus, b.session_id == M.focus
    if fa ~= fb then
      return fa
    end
    return M.before(a, b, side)
  end)
  local session_id, ids = nil, {}
  for _, e in ipairs(ordered) do
    local first, last = M.span(e.hunk, side)
    if first <= line2 and last >= line1 and (session_id == nil or e.session_id == session_id) then
      session_id = e.session_id
      ids[#ids + 1] = e.hunk.id
    end
  end
  return session_id, ids
end

-- When hunks of several sessions share a line, its sign shows the most urgent state.
local URGENCY = { conflict = 4, pending = 3, applied = 2, discarded = 1 }

--- The state to show on each line (1-based) the hunks cover, clamped to the text.
---@param entries zwarm.HunkEntry[]
---@param side? "file"|"base"|"result"
---@param line_count integer
---@return table<integer, string>
function M.line_states(entries, side, line_count)
  local states = {}
  for _, e in ipairs(entries) do
    local state = e.hunk.state
    local first, last = M.span(e.hunk, side)
    for line = math.min(first, line_count), math.min(last, line_count) do
      local had = states[line]
      if not had or (URGENCY[state] or 0) > (URGENCY[had] or 0) then
        states[line] = state
      end
    end
  end
  return states
end

--- The line of the next (or previous) hunk still waiting for a decision, or nil.
---@param entries zwarm.HunkEntry[]
---@param line integer the cursor's line
---@param forward boolean
---@param side? "file"|"base"|"result"
---@return integer|nil
function M.next_line(entries, line, forward, side)
  local best
  for _, e in ipairs(entries) do
    if M.AWAITING[e.hunk.state] then
      local first = M.span(e.hunk, side)
      if forward and first > line and (not best or first < best) then
        best = first
      elseif not forward and first < line and (not best or first > best) then
        best = first
      end
    end
  end
  return best
end

--- The most recent session with hunks still waiting, from the sessions' summaries.
---@param summaries table<string, table> session id -> SessionSummary
---@return string|nil
function M.latest_with_pending(summaries)
  local best
  for id, s in pairs(summaries) do
    local c = type(s.changes) == "table" and s.changes or {}
    if ((c.pending or 0) + (c.conflict or 0)) > 0
        and (not best or (s.updatedAt or "") > (summaries[best].updatedAt or "")) then
      best = id
    end
  end
  return best
end

--- Virtual text for the blame of a buffer: the lines an agent wrote, each naming the
--- session and turn (your own lines get nothing).
---@param result table BlameResult
---@param line_count integer
---@return {line: integer, text: string}[]
function M.blame_marks(result, line_count)
  local marks = {}
  for _, l in ipairs(result.lines or {}) do
    if l.author == "agent" and l.line < line_count then
      local adapter = l.adapter ~= vim.NIL and l.adapter or "agent"
      local short = l.shortId ~= vim.NIL and l.shortId or "?"
      local turn = l.turn ~= vim.NIL and l.turn or 0
      marks[#marks + 1] = { line = l.line, text = ("  %s %s t%d"):format(adapter, short, turn) }
    end
  end
  return marks
end

--- A warning for a delegate whose selection overlaps other live sessions' lines, or nil.
---@param result table DelegateResult
---@return string|nil
function M.overlap_warning(result)
  local seen, parts = {}, {}
  for _, o in ipairs(result.overlaps or {}) do
    local where = ("%s %s:%d"):format(o.shortId, vim.fn.fnamemodify(vim.uri_to_fname(o.path), ":t"),
      o.range.start.line + 1)
    if not seen[where] then
      seen[where] = true
      parts[#parts + 1] = where
    end
  end
  if #parts == 0 then
    return nil
  end
  return ("zwarm: %s overlaps %s; to stop it: :Zwarm end %s"):format(result.shortId,
    table.concat(parts, ", "), result.shortId)
end

return M
