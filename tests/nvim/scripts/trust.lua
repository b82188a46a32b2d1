-- :Zwarm trust records the project in vim.secure's database and with the daemon.
local T = require("zwarm_test")

T.run(function()
  vim.cmd("edit " .. T.env("ZWARM_PROJECT") .. "/app.py")
  T.setup()
  T.client()
  T.results.cmd = require("zwarm.trust").trust_cmd(T.env("ZWARM_PROJECT"))
  -- The daemon says what it ignored from the project; the plugin says how to allow it.
  T.results.offer = T.wait("the warning about the ignored setting", function()
    local n = T.notified("ignored codex.extra_args")
    return n and n.msg
  end)
  local before = T.delegate("Zwarm delegate @codex before trusting")
  T.wait("the first session to complete", function()
    return T.notified(before.shortId .. " completed")
  end)
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
  local after = T.delegate("Zwarm delegate @codex once trusted")
  T.wait("the second session to complete", function()
    return T.notified(after.shortId .. " completed")
  end)
end)
