-- Options: defaults merged with the user's once, in setup(); every module reads
-- `require("zwarm.config").options` and never the raw table the user passed.
local M = {}

---@class zwarm.Options
M.defaults = {
  -- How to start the daemon. `nil` means `zwarm-ls serve` found on $PATH.
  cmd = nil,
  -- The workspace root is the nearest ancestor of the buffer holding one of these.
  root_markers = { ".zwarm", ".git" },
  -- Attach the daemon to every file buffer (it has to see a buffer for code actions,
  -- lenses and hovers to work there).
  autostart = true,
  -- Sent as initializationOptions: sections `daemon`, `codex`, `claude`,
  -- `orchestrator`, shaped like the files in .zwarm/.
  init_options = {},
  -- Adapter for :Zwarm delegate when none is named; `nil` lets the daemon decide.
  default_adapter = nil,
  -- Where a delegated agent works: "worktree" (its own git worktree; you review and
  -- accept its hunks), "inplace" (your files), or `nil` for the daemon's default.
  isolation = nil,
  inline = {
    enabled = true,
    -- "eol": status at the end of the anchor line; "above": a virtual line above it.
    position = "eol",
    -- Signs on the lines agents changed (from zwarm/decorations).
    signs = true,
    sign_text = "▎",
    -- Also highlight those whole lines.
    line_highlight = false,
    -- Coalesce bursts of updates into one redraw per buffer.
    debounce_ms = 100,
  },
  trajectory = {
    -- How the trajectory buffer opens: "vsplit", "split", "tab" or "current".
    open = "vsplit",
    -- Keep the cursor on the last line while new steps arrive, if it was there.
    follow = true,
  },
  -- Route the daemon's window/showMessage (session completed/failed) to vim.notify.
  notify = true,
  -- Map ]z / [z to the next / previous agent hunk (|zwarm-review|).
  keymaps = true,
}

M.options = vim.deepcopy(M.defaults)

---@param opts? table
function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  return M.options
end

--- The daemon command line, resolved now so a later change of $PATH is seen.
---@return string[]
function M.cmd()
  local cmd = M.options.cmd
  if type(cmd) == "string" then
    return { cmd, "serve" }
  end
  return cmd or { "zwarm-ls", "serve" }
end

return M
