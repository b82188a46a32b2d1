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

-- ----- the runs list (:Zwarm runs) ---------------------------------------------

local RUNS_BUFFER = "zwarm://runs"

---@param run table RunSummary
---@return string
local function run_line(run)
  local task = (run.task or ""):gsub("%s+", " ")
  return ("%s  %-16s %3d/%-3d steps  %2d sessions  %s"):format(
    run.runId, run.status, run.stepCount or 0, run.maxSteps or 0, #(run.sessions or {}), task)
end

--- Open a run's steps (zwarm/orchestratorTrajectory) in its `zwarm://orchestrator/`
--- buffer; a run still going keeps streaming into it.
---@param run_id string
function M.open(run_id)
  M.optional_request("zwarm/orchestratorTrajectory", { runId = run_id }, function(r)
    local bufnr = view.scratch("zwarm://orchestrator/" .. run_id)
    M.buffers[run_id] = bufnr
    local task = (r.task or ""):gsub("\n", " ")
    view.set(bufnr, { header(run_id, r.status), "", "- **task**: " .. task, "" })
    append_steps(bufnr, r.steps or {})
    -- Steps streamed before the buffer existed, and not in the answer already.
    local next_index = r.nextIndex or 0
    append_steps(bufnr, vim.tbl_filter(function(step)
      return step.index >= next_index
    end, early[run_id] or {}))
    early[run_id] = nil
    vim.api.nvim_exec_autocmds("User", { pattern = "ZwarmRunOpened", data = { runId = run_id } })
  end)
end

--- Carry on a stopped, failed or interrupted run in the daemon (zwarm/resumeRun); its
--- steps stream into its `zwarm://orchestrator/` buffer.
---@param run_id string
function M.resume(run_id)
  M.optional_request("zwarm/resumeRun", { runId = run_id }, function(r)
    notify(("orchestrator %s resumed: %s"):format(r.runId, r.status))
    M.open(run_id)
  end)
end

--- The run under the cursor of the runs buffer.
---@param bufnr integer
---@return string|nil
local function run_at_cursor(bufnr)
  local line = vim.api.nvim_get_current_line()
  local id = line:match("^(%S+)")
  return id and vim.tbl_contains(vim.b[bufnr].zwarm_run_ids or {}, id) and id or nil
end

--- `:Zwarm runs`: the project's orchestrator runs, newest first, in `zwarm://runs`.
function M.list()
  M.optional_request("zwarm/listRuns", vim.empty_dict(), function(result)
    local runs = result.runs or {}
    local bufnr = view.scratch(RUNS_BUFFER)
    local lines = { "# orchestrator runs", "" }
    local ids, resumable = {}, false
    for _, run in ipairs(runs) do
      lines[#lines + 1] = run_line(run)
      ids[#ids + 1] = run.runId
      resumable = resumable or run.resumable == true
    end
    if #runs == 0 then
      lines[#lines + 1] = "(no orchestrator runs yet: :Zwarm orchestrate {task})"
    end
    vim.list_extend(lines, { "", "<CR> its steps · R resume it · r refresh · q close" })
    if resumable then
      lines[#lines + 1] = "(stopped, failed and interrupted runs can be resumed: R here, or "
        .. "zwarm-ls orchestrate --resume RUN)"
    end
    vim.bo[bufnr].modifiable = true
    view.set(bufnr, lines)
    vim.bo[bufnr].modifiable = false
    vim.b[bufnr].zwarm_run_ids = ids
    vim.keymap.set("n", "<CR>", function()
      local id = run_at_cursor(bufnr)
      if id then
        M.open(id)
      end
    end, { buffer = bufnr, nowait = true, desc = "zwarm: open the run's steps" })
    vim.keymap.set("n", "R", function()
      local id = run_at_cursor(bufnr)
      if id then
        M.resume(id)
      end
    end, { buffer = bufnr, nowait = true, desc = "zwarm: resume the run" })
    vim.keymap.set("n", "r", M.list, { buffer = bufnr, nowait = true, desc = "zwarm: refresh the runs" })
    vim.api.nvim_win_set_cursor(0, { math.min(3, #lines), 0 })
    vim.api.nvim_exec_autocmds("User", { pattern = "ZwarmRunsListed", data = { count = #runs } })
  end)
end

return M
