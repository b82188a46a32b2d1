# One entry point for people and CI. `make test` (= .ci/run, with CI=true: a missing part
# fails, never skips) sets everything up from a fresh clone (Python venv, Neovim, agent
# CLIs, VS Code toolchain, code-server, Chromium) and runs every test, with agent CLIs,
# code-server and Chromium inside a network namespace. `make check` runs the tests alone.
.PHONY: test setup check demo bench lint

test:
	bash .ci/run

setup:
	bash .ci/setup.sh

check:
	bash .ci/test.sh

lint:
	.venv/bin/ruff check zwarm_ls tests bench

demo: setup
	bash .ci/demo.sh

bench: setup
	.venv/bin/python -m bench
