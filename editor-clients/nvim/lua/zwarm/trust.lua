-- `:Zwarm trust`: let this project's .zwarm/ config widen what agents may do (a binary,
-- extra arguments, bypass modes…). Until then the daemon ignores such settings and says
-- so. Trust is recorded twice: in Neovim's own trust database (|vim.secure.trust()|,
-- as for 'exrc' files) and for the daemon (`zwarm-ls trust`), which every editor and the
-- CLI read.
local client = require("zwarm.client")
local config = require("zwarm.config")

local M = {}

local CONFIG_FILES = { "config.toml", "codex.toml", "claude.toml" }

--- The project's .zwarm/ config files that exist.
---@param root string
---@return string[]
function M.config_files(root)
  local found = {}
  for _, name in ipairs(CONFIG_FILES) do
    local path = vim.fs.joinpath(root, ".zwarm", name)
    if vim.uv.fs_stat(path) then
      found[#found + 1] = path
    end
  end
  return found
end

--- The daemon's warning about a setting it ignored because it widens what agents may
--- do, with the way to allow it from here; nil for any other message.
---@param message string
---@return string|nil
function M.offer(message)
  if message:find("ignored", 1, true) and message:find("widens what agents may do", 1, true) then
    return message .. " — in Neovim: :Zwarm trust (:help :Zwarm-trust)"
  end
end

--- The `zwarm-ls trust ROOT` command line, from the configured daemon command.
---@param root string
---@return string[]
function M.trust_cmd(root)
  local cmd = vim.deepcopy(config.cmd())
  if cmd[#cmd] == "serve" then
    table.remove(cmd)
  end
  vim.list_extend(cmd, { "trust", "--root", root })
  return cmd
end

---@param bufnr? integer
function M.trust(bufnr)
  local root = client.root_for(bufnr or 0)
  for _, path in ipairs(M.config_files(root)) do
    -- "allow" trusts a buffer's exact contents: load the file into a hidden one.
    local buf = vim.fn.bufadd(path)
    vim.fn.bufload(buf)
    vim.secure.trust({ action = "allow", bufnr = buf })
    if vim.fn.bufwinid(buf) == -1 then
      vim.api.nvim_buf_delete(buf, { force = true })
    end
  end
  vim.system(M.trust_cmd(root), { text = true }, vim.schedule_wrap(function(done)
    if done.code ~= 0 then
      vim.notify("zwarm: trusting failed: " .. (done.stderr or ""), vim.log.levels.ERROR,
        { title = "zwarm" })
      return
    end
    for _, c in ipairs(vim.lsp.get_clients({ name = client.NAME })) do
      c:notify("workspace/didChangeConfiguration",
        { settings = { zwarm = vim.tbl_extend("force", config.options.init_options or {},
          { trustedFolder = true }) } })
    end
    vim.notify("zwarm: trusted " .. root .. "; its .zwarm/ settings now apply",
      vim.log.levels.INFO, { title = "zwarm" })
  end))
end

return M
