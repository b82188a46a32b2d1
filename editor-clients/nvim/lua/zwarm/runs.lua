-- The orchestrator and the pilot: LLM loops in the daemon. Their steps stream in as
-- zwarm/orchestratorUpdated; we append them to one scratch buffer per run.
local client = require("zwarm.client")
local view = require("zwarm.view")

local M = {}

local PILOT_BUFFER = "zwarm://pilot"

---@type table<string, integer> run id -> buffer
M.buffers = {}
-- Steps that arrived before the request's answer told us the run id.
local early = {} ---@type table<string, table[]>

local function notify(msg, level)
  vim.notify(msg, level or vim.log.levels.INFO, { title = "zwarm" })
end

--- Like client.request, but a daemon without `method` gets a clear message.
---@param method string
---@param params table
---@param on_result fun(result: table)
function M.optional_request(method, params, on_result)
  client.request(method, params, on_result, {
    on_error = function(err)
      if err.code == client.METHOD_NOT_FOUND then
        notify(("%s is not available in this zwarm-ls yet; update the daemon"):format(method),
          vim.log.levels.WARN)
        return true
      end
    end,
  })
end

---@param step table Step
local function step_lines(step)
  local summary = (step.summary or ""):gsub("%s+", " ")
  return { ("- **#%d** %s: %s"):format(step.index, step.kind, summary) }
end

local function append_steps(bufnr, steps)
  local lines = {}
  for _, step in ipairs(steps) do
    vim.list_extend(lines, step_lines(step))
  end
  if #lines > 0 then
    view.append(bufnr, lines)
  end
end

local function header(run_id, status)
  return ("# orchestrator %s: %s"):format(run_id, status)
end

---@param task string
function M.orchestrate(task)
  M.optional_request("zwarm/orchestrate", { task = task }, function(r)
    local bufnr = view.scratch("zwarm://orchestrator/" .. r.runId)
    M.buffers[r.runId] = bufnr
    view.set(bufnr, { header(r.runId, r.status), "", "- **task**: " .. task:gsub("\n", " "), "" })
    append_steps(bufnr, early[r.runId] or {})
    early[r.runId] = nil
    if r.message then
      view.append(bufnr, vim.list_extend({ "" }, view.split(r.message)))
    end
  end)
end

---@param message string
function M.pilot(message)
  local bufnr = view.scratch(PILOT_BUFFER)
  view.append(bufnr, vim.list_extend({ "## You", "" }, vim.list_extend(view.split(message), { "" })))
  M.optional_request("zwarm/pilot", { message = message }, function(r)
    local lines = { "", ("## Pilot (%s)"):format(r.checkpoint or "?"), "" }
    view.append(bufnr, vim.list_extend(vim.list_extend(lines, view.split(r.reply)), { "" }))
  end)
end

--- A zwarm/orchestratorUpdated notification.
---@param update table {runId, kind, status, newSteps}
function M.on_update(update)
  if update.kind == "pilot" then
    local bufnr = vim.fn.bufnr(PILOT_BUFFER)
    if bufnr ~= -1 then
      append_steps(bufnr, update.newSteps or {})
    end
    return
  end
  local bufnr = M.buffers[update.runId]
  if not bufnr or not vim.api.nvim_buf_is_valid(bufnr) then
    early[update.runId] = vim.list_extend(early[update.runId] or {}, update.newSteps or {})
    return
  end
  vim.api.nvim_buf_set_lines(bufnr, 0, 1, false, { header(update.runId, update.status) })
  append_steps(bufnr, update.newSteps or {})
end

return M
