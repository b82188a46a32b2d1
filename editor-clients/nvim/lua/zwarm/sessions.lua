-- Session lists: the picker, the quickfix list and id completion. Summaries come
-- from zwarm/listSessions and are kept current by zwarm/sessionUpdated.
local client = require("zwarm.client")

local M = {}

---@type table<string, table> session id -> latest SessionSummary seen
M.cache = {}

---@param summary table SessionSummary
function M.remember(summary)
  M.cache[summary.id] = summary
end

---@param s table SessionSummary
---@return string
function M.format(s)
  local task = (s.task or ""):gsub("%s+", " ")
  local flag = s.needsAttention and " !" or ""
  return ("%s  %-9s %-6s t%d %3d steps  %s%s"):format(
    s.shortId, s.status, s.adapter, s.turn or 0, s.stepCount or 0, task:sub(1, 60), flag
  )
end

--- Fetch the sessions (newest first, as the daemon orders them).
---@param on_sessions fun(sessions: table[])
---@param status? string only sessions with this status
function M.list(on_sessions, status)
  client.request("zwarm/listSessions", { status = status }, function(result)
    for _, s in ipairs(result.sessions or {}) do
      M.remember(s)
    end
    on_sessions(result.sessions or {})
  end)
end

--- `vim.ui.select` over the sessions; the chosen one opens its trajectory.
function M.pick()
  M.list(function(sessions)
    if #sessions == 0 then
      vim.notify("zwarm: no sessions yet", vim.log.levels.INFO, { title = "zwarm" })
      return
    end
    vim.ui.select(sessions, { prompt = "zwarm sessions", format_item = M.format, kind = "zwarm.session" },
      function(choice)
        if choice then
          require("zwarm.trajectory").open(choice.id)
        end
      end)
  end)
end

--- Sessions as quickfix items: anchored ones jump to their anchor.
---@param sessions table[]
---@return table[]
function M.qf_items(sessions)
  local items = {}
  for _, s in ipairs(sessions) do
    local item = { text = M.format(s), user_data = { sessionId = s.id } }
    if s.anchor then
      item.filename = vim.uri_to_fname(s.anchor.uri)
      item.lnum = s.anchor.range.start.line + 1
      item.col = s.anchor.range.start.character + 1
    else
      item.valid = 0
    end
    items[#items + 1] = item
  end
  return items
end

function M.quickfix()
  M.list(function(sessions)
    vim.fn.setqflist({}, " ", { title = "zwarm sessions", items = M.qf_items(sessions) })
    vim.cmd("botright copen")
  end)
end

--- Short ids (or full ids, once the prefix is longer than a short id) for completion.
--- Asks the daemon briefly and falls back to what notifications have told us.
---@param arglead string
---@return string[]
function M.complete_ids(arglead)
  local result = client.request_sync("zwarm/listSessions", {}, 1500)
  if result then
    for _, s in ipairs(result.sessions or {}) do
      M.remember(s)
    end
  end
  local sessions = vim.tbl_values(M.cache)
  table.sort(sessions, function(a, b)
    return (a.updatedAt or "") > (b.updatedAt or "")
  end)
  local out = {}
  for _, s in ipairs(sessions) do
    local id = #arglead > #s.shortId and s.id or s.shortId
    if vim.startswith(id, arglead) then
      out[#out + 1] = id
    end
  end
  return out
end

return M
