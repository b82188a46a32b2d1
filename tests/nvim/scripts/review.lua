-- Review a worktree session in Neovim: :Zwarm changes fills the quickfix list, ]z moves
-- to a hunk that waits, :Zwarm accept brings one into the (modified, unsaved) buffer
-- through workspace/applyEdit, `u` undoes it, :Zwarm reject in the diff tab drops the
-- other, a second session's overlapping hunk conflicts and stays pending, :Zwarm blame
-- names the session. Run headless (test_review.py) and in tmux (test_screen_dump.py),
-- where T.stage waits for the screen to be captured.
local T = require("zwarm_test")

local function qf_texts()
  return vim.tbl_map(function(item)
    return item.text
  end, vim.fn.getqflist())
end

local function signs(buf)
  local out = {}
  for _, id in ipairs(require("zwarm.review").mark_ids(buf, "signs")) do
    local m = vim.api.nvim_buf_get_extmark_by_id(buf, require("zwarm.review").ns, id,
      { details = true })
    out[#out + 1] = { row = m[1], text = vim.trim(m[3].sign_text) }
  end
  table.sort(out, function(a, b)
    return a.row < b.row
  end)
  return out
end

--- The inline status drawn from what the daemon says now (before a screen is taken).
local function settle(buf)
  local drawn = T.capture("ZwarmInlineDrawn")
  require("zwarm.inline").render(buf)
  T.wait("the inline status", function()
    return #drawn > 0
  end)
end

T.run(function()
  local lines = tonumber(os.getenv("ZWARM_SCREEN_LINES") or "")
  if lines then
    vim.o.lines = lines
  end
  vim.cmd("edit app.py") -- the editor runs in the project: short names on the screen
  local buf = vim.api.nvim_get_current_buf()
  T.setup({ isolation = "worktree" })
  T.client()
  local review = require("zwarm.review")
  local sessions = require("zwarm.sessions")

  local first = T.delegate("Zwarm delegate @codex tidy app.py", "the first session")
  T.results.first = first
  T.wait("the first session to finish", function()
    local s = sessions.cache[first.sessionId]
    return s and s.status == "completed" and s.changes and s.changes.pending == 2
  end)
  -- The second one is started on line 2, where the first one's hunk waits.
  local second = T.delegate("2Zwarm delegate @codex tidy app.py too", "the second session")
  T.results.second = second
  T.results.overlap_warning = T.wait("the overlap warning", function()
    local n = T.notified("zwarm: " .. second.shortId .. " overlaps")
    return n and n.level == vim.log.levels.WARN and n.msg
  end)
  T.wait("the second session to finish", function()
    local s = sessions.cache[second.sessionId]
    return s and s.status == "completed" and s.changes and (s.changes.pending or 0) > 0
  end)
  -- The user edits the last line and does not save.
  vim.api.nvim_buf_set_lines(buf, 5, 6, false, { "print(add(2, 3))" })

  vim.cmd("Zwarm changes " .. first.shortId)
  T.wait("the hunks in the quickfix list", function()
    return #vim.fn.getqflist() == 2
  end)
  T.results.qf = qf_texts()
  T.results.qf_lnums = vim.tbl_map(function(item)
    return item.lnum
  end, vim.fn.getqflist())
  T.results.qf_title = vim.fn.getqflist({ title = 1 }).title

  vim.cmd("wincmd p")
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd("normal ]z")
  T.results.first_hunk_line = vim.fn.line(".")
  T.results.signs = signs(buf)
  settle(buf)
  T.stage("changes")
  vim.cmd("cclose")

  local reviewed = T.capture("ZwarmReviewed")
  vim.cmd("Zwarm accept")
  T.wait("the accepted hunk", function()
    return reviewed[1]
  end)
  T.results.accepted = reviewed[1].result
  T.results.after_accept = T.lines(buf)
  T.results.modified = vim.bo[buf].modified
  vim.cmd("normal! u")
  T.results.after_undo = T.lines(buf)
  vim.cmd("redo")
  T.results.after_redo = T.lines(buf)

  -- ]z skips the accepted hunk: what waits on line 2 now is the second session's.
  T.wait("the accepted hunk's new state", function()
    local set = require("zwarm.changes").sets[first.sessionId]
    return set and set.counts.applied == 1
  end)
  T.results.signs_after_accept = signs(buf)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local visited = {}
  for _, key in ipairs({ "]z", "]z", "]z", "[z" }) do
    vim.cmd("normal " .. key)
    visited[#visited + 1] = vim.fn.line(".")
  end
  T.results.visited = visited

  -- The diff tab: base and result side by side; reject the other hunk from there.
  vim.cmd("Zwarm diff")
  T.wait("the diff tab", function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2 and vim.wo.diff
  end)
  local result_buf = vim.api.nvim_get_current_buf() -- the right (result) side has focus
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd("normal ]z")
  T.results.diff_hunk_line = vim.fn.line(".")
  vim.cmd("Zwarm reject")
  T.wait("the rejected hunk", function()
    return reviewed[2]
  end)
  T.results.rejected = reviewed[2].result
  T.results.diff_signs = T.wait("both decisions in the diff tab's signs", function()
    local s = signs(result_buf)
    local texts = table.concat(vim.tbl_map(function(x)
      return x.text
    end, s))
    return texts:find("✓", 1, true) and texts:find("✗", 1, true) and s
  end)
  local sides = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(win)
    sides[#sides + 1] = { name = vim.api.nvim_buf_get_name(b), lines = T.lines(b),
      diff = vim.wo[win].diff, filetype = vim.bo[b].filetype }
  end
  T.results.diff = sides
  T.stage("diff")
  vim.cmd("tabclose")

  vim.api.nvim_set_current_buf(buf)
  vim.cmd("write")
  T.results.saved = T.lines(buf)

  -- The second session, started alongside the first, rewrote the same line.
  vim.cmd("Zwarm accept all " .. second.sessionId)
  T.wait("the conflict", function()
    return reviewed[3]
  end)
  T.results.conflict = reviewed[3].result
  T.results.conflict_qf = vim.tbl_map(function(item)
    return { text = item.text, lnum = item.lnum }
  end, vim.fn.getqflist())
  T.results.second_changes = T.wait("the second session's hunk in conflict", function()
    local set = require("zwarm.changes").sets[second.sessionId]
    return set and set.counts.conflict == 1 and set
  end)
  T.results.signs_after_conflict = signs(buf)
  T.results.lines_after_conflict = T.lines(buf)
  settle(buf)
  T.results.inline_after_conflict = vim.tbl_map(function(m)
    return m.text
  end, T.extmarks(buf))
  T.stage("conflict")
  vim.cmd("cclose")

  vim.api.nvim_set_current_buf(buf)
  vim.cmd("Zwarm blame")
  T.wait("blame virtual text", function()
    return #review.mark_ids(buf, "blame") > 0
  end)
  local blamed = {}
  for _, id in ipairs(review.mark_ids(buf, "blame")) do
    local m = vim.api.nvim_buf_get_extmark_by_id(buf, review.ns, id, { details = true })
    blamed[#blamed + 1] = { row = m[1], text = m[3].virt_text[1][1] }
  end
  T.results.blame = blamed
  settle(buf)
  T.stage("blame")
end)
