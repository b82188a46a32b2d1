-- One scratch markdown buffer per session, filled from zwarm/renderTrajectory and
-- re-rendered when zwarm/sessionUpdated reports a change to that session.
local client = require("zwarm.client")
local config = require("zwarm.config")

local M = {}

---@type table<string, integer> full session id -> buffer
M.buffers = {}

local pending = {} ---@type table<string, boolean>

local function buffer_name(session_id)
  return "zwarm://trajectory/" .. session_id
end

local function at_end(win, bufnr)
  return vim.api.nvim_win_get_cursor(win)[1] >= vim.api.nvim_buf_line_count(bufnr)
end

local diff = vim.text and vim.text.diff or vim.diff

--- Make the buffer read `lines` by rewriting only the hunks that differ: the header
--- changes with every step, while steps already shown stay as they are and new ones
--- are appended (cursor, folds and marks in them survive an update).
---@param bufnr integer
---@param lines string[]
local function patch(bufnr, lines)
  local old = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local hunks = diff(table.concat(old, "\n") .. "\n", table.concat(lines, "\n") .. "\n",
    { result_type = "indices" })
  ---@cast hunks integer[][]
  -- Last hunk first, so the line numbers of the earlier ones stay valid.
  for i = #hunks, 1, -1 do
    local start_old, count_old, start_new, count_new = unpack(hunks[i])
    local first = count_old == 0 and start_old or start_old - 1
    vim.api.nvim_buf_set_lines(bufnr, first, first + count_old, false,
      vim.list_slice(lines, start_new, start_new + count_new - 1))
  end
end

---@param bufnr integer
---@param markdown string
local function fill(bufnr, markdown)
  local lines = vim.split(markdown, "\n", { plain = true })
  if lines[#lines] == "" then
    lines[#lines] = nil
  end
  -- Windows that showed the last line keep following the stream.
  local following = {}
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    following[win] = config.options.trajectory.follow and at_end(win, bufnr)
  end
  vim.bo[bufnr].modifiable = true
  patch(bufnr, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].modified = false
  for win, follow in pairs(following) do
    if follow then
      vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(bufnr), 0 })
    end
  end
  vim.api.nvim_exec_autocmds("User", { pattern = "ZwarmTrajectoryDrawn", data = { bufnr = bufnr }, modeline = false })
end

local function session_of(bufnr)
  return vim.b[bufnr].zwarm_session_id
end

--- The buffer-local keys of a trajectory buffer: lhs -> {description, action}.
---@type table<string, {[1]: string, [2]: fun(session_id: string)}>
M.keys = {
  q = { "close", function()
    if #vim.api.nvim_list_wins() > 1 then
      vim.api.nvim_win_close(0, false)
    else
      vim.cmd("bprevious")
    end
  end },
  c = { "converse", function(id)
    require("zwarm.commands").converse(id)
  end },
  x = { "end session", function(id)
    require("zwarm.commands").end_session(id)
  end },
  r = { "refresh", function(id)
    M.render(id)
  end },
}

local function set_keys(bufnr)
  for lhs, key in pairs(M.keys) do
    vim.keymap.set("n", lhs, function()
      key[2](session_of(bufnr))
    end, { buffer = bufnr, nowait = true, desc = "zwarm: " .. key[1] })
  end
end

---@param session_id string full id
---@return integer bufnr
local function ensure_buffer(session_id)
  local bufnr = M.buffers[session_id]
  if bufnr and vim.api.nvim_buf_is_valid(bufnr) then
    return bufnr
  end
  bufnr = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(bufnr, buffer_name(session_id))
  vim.bo[bufnr].buftype = "nofile"
  vim.bo[bufnr].bufhidden = "hide"
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].filetype = "markdown"
  vim.bo[bufnr].modifiable = false
  vim.b[bufnr].zwarm_session_id = session_id
  set_keys(bufnr)
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = bufnr,
    once = true,
    callback = function()
      M.buffers[session_id] = nil
    end,
  })
  M.buffers[session_id] = bufnr
  return bufnr
end

local function show(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    vim.api.nvim_set_current_win(win)
    return
  end
  local how = config.options.trajectory.open
  local cmd = ({ vsplit = "vsplit", split = "split", tab = "tabnew" })[how]
  if cmd then
    vim.cmd(cmd)
  end
  vim.api.nvim_win_set_buf(0, bufnr)
  -- Start at the newest step, like `tail -f`, so new steps keep scrolling into view.
  if config.options.trajectory.follow then
    vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(bufnr), 0 })
  end
end

--- Re-render a session's buffer from the daemon (if the buffer exists).
---@param session_id string
function M.render(session_id, on_done)
  client.request("zwarm/renderTrajectory", { sessionId = session_id }, function(result)
    local bufnr = ensure_buffer(result.sessionId)
    fill(bufnr, result.markdown or "")
    if on_done then
      on_done(bufnr)
    end
  end)
end

--- Open (or focus) the trajectory buffer of a session; any unique id prefix works.
---@param session_id string
function M.open(session_id)
  M.render(session_id, show)
end

--- Called for every zwarm/sessionUpdated: re-render that session's buffer, at most
--- one request in flight per session (a burst of steps costs one render).
---@param session table SessionSummary
function M.on_update(session)
  local bufnr = M.buffers[session.id]
  if not bufnr or not vim.api.nvim_buf_is_valid(bufnr) or pending[session.id] then
    return
  end
  pending[session.id] = true
  vim.defer_fn(function()
    pending[session.id] = nil
    M.render(session.id)
  end, config.options.inline.debounce_ms)
end

return M
