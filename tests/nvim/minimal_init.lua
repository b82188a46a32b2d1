-- Loaded with `nvim --headless --clean -u minimal_init.lua`: the plugin under test
-- and the test helpers on the runtimepath, nothing from the user's config.
vim.opt.runtimepath:prepend(assert(os.getenv("ZWARM_NVIM_PLUGIN")))
vim.opt.runtimepath:append(assert(os.getenv("ZWARM_NVIM_TESTS")))
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
vim.opt.more = false
vim.o.columns = 110
vim.o.lines = 16
