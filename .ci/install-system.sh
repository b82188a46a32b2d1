#!/usr/bin/env bash
# Debian packages the test suite itself needs, whichever image it starts from:
# tmux (the Neovim screen-dump test renders the plugin in a real terminal) and iproute2
# (`ip link set lo up` inside the `unshare -n` network namespace the tests run in).
# The VS Code toolchain's packages (chromium, …) are installed by install-vscode.sh.
set -euo pipefail
need=()
for pkg in tmux iproute2; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "  debian packages present (tmux, iproute2)"
  exit 0
fi
echo "  apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need[@]}" >/dev/null
