-- The pure change-set model (zwarm.changes) on hand-made change sets: no daemon.
local T = require("zwarm_test")
local changes = require("zwarm.changes")

local function range(a, b)
  return { start = { line = a, character = 0 }, ["end"] = { line = b, character = 0 } }
end

local function hunk(id, state, old, new, extra)
  return vim.tbl_extend("force", { id = id, turn = 1, state = state, oldRange = old,
    newRange = new, added = new["end"].line - new.start.line,
    removed = old["end"].line - old.start.line, preview = "p" .. id }, extra or {})
end

local function set(id, short, path, hunks)
  return { sessionId = id, shortId = short, known = true, counts = {},
    files = { { path = vim.uri_from_fname(path), relPath = vim.fs.basename(path), hunks = hunks } } }
end

--- targets() as a JSON-friendly pair.
local function targets(...)
  local session, ids = changes.targets(...)
  return { session or vim.NIL, ids }
end

T.run(function()
  local r = {}
  local pending = hunk("h1", "pending", range(1, 2), range(1, 3))
  local applied = hunk("h2", "applied", range(1, 2), range(1, 3))
  local insertion = hunk("h3", "pending", range(4, 4), range(5, 6))
  r.spans = {
    { changes.span(pending) }, { changes.span(applied) }, { changes.span(insertion) },
    { changes.span(pending, "base") }, { changes.span(pending, "result") },
    { changes.span(insertion, "result") },
  }

  local a = set("A", "aaaaaaaa", "/p/app.py", {
    hunk("a1", "pending", range(1, 2), range(1, 3)),
    hunk("a2", "applied", range(6, 7), range(7, 9)),
    hunk("a3", "conflict", range(12, 12), range(14, 15), { mixed = true }),
  })
  local b = set("B", "bbbbbbbb", "/p/app.py", { hunk("b1", "pending", range(1, 3), range(1, 2)) })
  r.qf = changes.qf_items(a)

  changes.remember(a)
  changes.remember(b)
  local entries = changes.entries("/p/app.py")
  r.targets_nofocus = targets(entries, 2, 2)
  changes.focus = "B"
  r.targets_focus_b = targets(entries, 2, 2)
  changes.focus = "A"
  r.targets_range = targets(entries, 1, 13)
  r.targets_none = targets(entries, 4, 6)
  r.targets_result_side = targets(changes.entries("/p/app.py", "result", "A"), 8, 8,
    "result")
  changes.remember(a) -- a reload keeps the session under review
  r.focus_after_reload = changes.focus

  r.next = {}
  for _, case in ipairs({ { 1, true }, { 2, true }, { 13, true }, { 13, false }, { 2, false } }) do
    r.next[#r.next + 1] = changes.next_line(entries, case[1], case[2]) or vim.NIL
  end
  r.line_states = {}
  for line, state in pairs(changes.line_states(entries, "file", 12)) do
    r.line_states[#r.line_states + 1] = ("%d=%s"):format(line, state)
  end
  table.sort(r.line_states)

  r.conflicts = changes.conflict_items({ sessionId = "A", conflicts = {
    { hunkId = "a3", path = vim.uri_from_fname("/p/app.py"), reason = "overlap", detail = vim.NIL },
    { hunkId = "zz", path = vim.uri_from_fname("/p/b.py"), reason = "fileChanged",
      detail = "b.py changed on disk" },
  } })
  r.summary = changes.summary("applied", { applied = { "a1" },
    skipped = { { hunkId = "a2", reason = "already applied" } } })

  r.latest = changes.latest_with_pending({
    old = { updatedAt = "2026-01-01", changes = { pending = 1 } },
    new = { updatedAt = "2026-01-02", changes = { conflict = 1 } },
    newest = { updatedAt = "2026-01-03", changes = { pending = 0, applied = 3 } },
    none = { updatedAt = "2026-01-04" },
  })

  r.blame = changes.blame_marks({ known = true, lines = {
    { line = 0, author = "user" },
    { line = 1, author = "agent", adapter = "codex", shortId = "aaaaaaaa", turn = 2 },
    { line = 2, author = "agent", adapter = vim.NIL, shortId = vim.NIL, turn = vim.NIL },
    { line = 9, author = "agent", adapter = "claude", shortId = "bbbbbbbb", turn = 1 },
  } }, 3)

  r.overlap_none = changes.overlap_warning({ shortId = "cccccccc", overlaps = {} }) or vim.NIL
  local o = { sessionId = "A", shortId = "aaaaaaaa", path = vim.uri_from_fname("/p/app.py"),
    range = range(1, 2) }
  r.overlap = changes.overlap_warning({ shortId = "cccccccc", overlaps = { o, o } })

  changes.forget("A")
  r.after_forget = { focus = changes.focus or vim.NIL, left = vim.tbl_map(function(e)
    return e.hunk.id
  end, changes.entries("/p/app.py")) }
  T.results.model = r
end)
