-- doc/zwarm.txt: help tags build without duplicates, and what the plugin defines
-- (subcommands, options, highlight groups, trajectory keys) is listed for the test
-- to look up among the tags.
local T = require("zwarm_test")

local function flatten(tbl, prefix, out)
  for key, value in pairs(tbl) do
    local name = prefix .. key
    -- Tables of values (root_markers) and free-form tables (init_options) are one option.
    if type(value) == "table" and not vim.islist(value) and next(value) ~= nil then
      flatten(value, name .. ".", out)
    else
      out[#out + 1] = name
    end
  end
  return out
end

T.run(function()
  local doc_dir = T.env("ZWARM_DOC_COPY")
  vim.cmd("helptags " .. vim.fn.fnameescape(doc_dir))
  T.results.tags = vim.fn.readfile(doc_dir .. "/tags")
  vim.opt.runtimepath:prepend(vim.fn.fnamemodify(doc_dir, ":h"))
  vim.cmd("help zwarm-trajectory-x")
  T.results.help_buffer = vim.api.nvim_buf_get_name(0)
  T.results.help_line = vim.fn.getline(vim.fn.line(".") + 1)

  T.results.subcommands = vim.tbl_keys(require("zwarm.commands").subcommands)
  T.results.options = flatten(require("zwarm.config").defaults, "", {})
  T.results.highlights = vim.list_extend(vim.tbl_keys(require("zwarm.inline").highlight_links),
    vim.tbl_keys(require("zwarm.review").highlight_links))
  T.results.keys = vim.tbl_keys(require("zwarm.trajectory").keys)
end)
