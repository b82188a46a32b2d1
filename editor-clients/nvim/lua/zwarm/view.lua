-- Scratch markdown buffers for answers that are documents (check, orchestrator, pilot).
local M = {}

---@param text string|nil
---@return string[]
function M.split(text)
  return vim.split(text or "", "\n", { plain = true })
end

--- Find or create the scratch buffer `name` and show it in a split.
---@param name string
---@return integer bufnr
function M.scratch(name)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].filetype = "markdown"
    vim.bo[bufnr].bufhidden = "hide"
    vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = bufnr, nowait = true, desc = "zwarm: close" })
  end
  if vim.fn.bufwinid(bufnr) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, bufnr)
  end
  return bufnr
end

---@param bufnr integer
---@param lines string[]
function M.set(bufnr, lines)
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modified = false
end

--- Append lines and keep the windows showing the buffer on its last line.
---@param bufnr integer
---@param lines string[]
function M.append(bufnr, lines)
  local count = vim.api.nvim_buf_line_count(bufnr)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1] == ""
  vim.api.nvim_buf_set_lines(bufnr, empty and 0 or count, -1, false, lines)
  vim.bo[bufnr].modified = false
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(bufnr), 0 })
  end
end

return M
