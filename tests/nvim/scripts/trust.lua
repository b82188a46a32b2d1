-- :Zwarm trust records the project in vim.secure's database and with the daemon.
local T = require("zwarm_test")

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  T.results.cmd = require("zwarm.trust").trust_cmd(T.env("ZWARM_PROJECT"))
  vim.cmd("Zwarm trust")
  T.wait("the trust notification", function()
    for _, n in ipairs(T.results.notifications) do
      if n.msg:find("trusted", 1, true) then
        return true
      end
    end
  end)
  local path = T.env("ZWARM_PROJECT") .. "/.zwarm/codex.toml"
  -- vim.secure.read returns the contents of a trusted file without asking.
  T.results.secure = vim.secure.read(path)
end)
