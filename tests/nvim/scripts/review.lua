-- Review a worktree session in Neovim: :Zwarm changes fills the quickfix list, ]z moves
-- to a hunk, :Zwarm accept brings one into the (modified, unsaved) buffer through
-- workspace/applyEdit, `u` undoes it, :Zwarm reject drops the other, a second session's
-- overlapping hunk conflicts and stays pending, :Zwarm diff and :Zwarm blame show the rest.
local T = require("zwarm_test")

local function qf_texts()
  return vim.tbl_map(function(item)
    return item.text
  end, vim.fn.getqflist())
end

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  local buf = vim.api.nvim_get_current_buf()
  T.setup({ isolation = "worktree" })
  T.client()
  local review = require("zwarm.review")

  local first = T.delegate("Zwarm delegate @codex tidy app.py", "the first session")
  T.wait("the first session to finish", function()
    local s = require("zwarm.sessions").cache[first.sessionId]
    return s and s.status == "completed" and s.changes and s.changes.pending == 2
  end)
  local second = T.delegate("Zwarm delegate @codex tidy app.py too", "the second session")
  T.wait("the second session to finish", function()
    local s = require("zwarm.sessions").cache[second.sessionId]
    return s and s.status == "completed" and s.changes and (s.changes.pending or 0) > 0
  end)
  -- The user edits the last line and does not save.
  vim.api.nvim_buf_set_lines(buf, 5, 6, false, { "print(add(2, 3))" })

  vim.cmd("Zwarm changes " .. first.shortId)
  T.wait("the hunks in the quickfix list", function()
    return #vim.fn.getqflist() == 2
  end)
  T.results.qf = qf_texts()
  T.results.qf_title = vim.fn.getqflist({ title = 1 }).title
  vim.cmd("cclose")

  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd("normal ]z")
  T.results.first_hunk_line = vim.fn.line(".")
  T.results.signs = #review.mark_ids(buf, "signs")

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

  vim.cmd("normal ]z")
  vim.cmd("Zwarm reject")
  T.wait("the rejected hunk", function()
    return reviewed[2]
  end)
  T.results.rejected = reviewed[2].result
  vim.cmd("write")
  T.results.saved = T.lines(buf)

  -- The second session, started alongside the first, rewrote the same line.
  vim.cmd("Zwarm accept all " .. second.sessionId)
  T.wait("the conflict", function()
    return reviewed[3]
  end)
  T.results.conflict = reviewed[3].result
  T.results.conflict_qf = qf_texts()
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

  vim.cmd("Zwarm diff " .. first.shortId)
  T.wait("the diff tab", function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2 and vim.wo.diff
  end)
  local sides = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(win)
    sides[#sides + 1] = { name = vim.api.nvim_buf_get_name(b), lines = T.lines(b),
      diff = vim.wo[win].diff }
  end
  T.results.diff = sides
  T.results.screen = T.screen()
end)
