-- User commands only; everything else loads on first use.
if vim.g.loaded_zwarm then
  return
end
vim.g.loaded_zwarm = true

if vim.fn.has("nvim-0.10") == 0 then
  vim.api.nvim_echo({ { "zwarm.nvim needs Neovim 0.10 or newer", "ErrorMsg" } }, true, {})
  return
end

vim.api.nvim_create_user_command("Zwarm", function(cmd)
  require("zwarm.commands").run(cmd)
end, {
  nargs = "*",
  range = true,
  desc = "zwarm: delegate tasks to coding agents and supervise them",
  complete = function(arglead, cmdline, pos)
    return require("zwarm.commands").complete(arglead, cmdline, pos)
  end,
})
