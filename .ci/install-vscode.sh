#!/usr/bin/env bash
# VS Code client toolchain and its end-to-end test bed, idempotently:
#   1. Debian packages: chromium (the browser the e2e test drives), ripgrep and the
#      headers code-server's native modules build against.
#   2. The extension's node_modules (npm ci from the committed lockfile) and its .vsix.
#   3. code-server 4.100.3 (the newest release whose engines allow Node 20) in
#      .ci-cache/code-server, installed offline with the recipe from
#      shared/research/real-clients.md §4a.
# Every step checks whether its result is already there, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EXT=editor-clients/vscode
CS_VERSION=4.100.3
CS_DIR=$ROOT/.ci-cache/code-server
# code-server 4.100.3 pulls @vscode/ripgrep 1.15.11, whose postinstall downloads rg from
# GitHub; we hand it Debian's rg under the cache name it looks for instead.
RG_PKG_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

say() { printf '  %s\n' "$*"; }

# code-server 4.100.3's postinstall refuses any other Node major; say so up front.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
if [ "$node_major" != 20 ]; then
  echo "install-vscode: Node 20 is required (code-server $CS_VERSION); found: $node_major" >&2
  exit 1
fi

need_pkgs=()
# git: the e2e test's project is a git work tree (the daemon finds changed lines with it).
for pkg in chromium ripgrep git libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another job may hold the dpkg lock on a shared machine: wait for it instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -q "${need_pkgs[@]}" >/dev/null
else
  say "debian packages present"
fi

# --- the extension -----------------------------------------------------------------
stamp=$EXT/node_modules/.zwarm-lock.sha
want=$(sha256sum "$EXT/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "npm ci ($EXT)"
  # build_from_source: keytar (an optional dependency of vsce) builds against the
  # system's Node headers instead of trying GitHub for a prebuilt binary first.
  # playwright-core is a plain devDependency: it never downloads a browser.
  (cd "$EXT" && npm_config_build_from_source=true \
    npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
else
  say "extension node_modules up to date"
fi

# vsce needs no network for --no-dependencies; building in a netns when we can makes
# sure of that.
say "package the extension"
mkdir -p .ci-cache  # the .vsix is a build product: it goes beside the other installs
if unshare -n true 2>/dev/null; then
  unshare -n sh -c "ip link set lo up; cd '$EXT' && npm run --silent package" >/dev/null
else
  (cd "$EXT" && npm run --silent package >/dev/null)
fi
ls -l .ci-cache/zwarm-ls.vsix | awk '{print "  built", $NF, $5, "bytes"}'

# --- code-server ---------------------------------------------------------------------
cs_bin=$CS_DIR/node_modules/.bin/code-server
# Without --config, code-server writes a default ~/.config/code-server/config.yaml (and a
# missing --config file gets written too, with a line of output): point it at /dev/null.
cs_version() { "$cs_bin" --config /dev/null --version 2>/dev/null | grep -m1 "^[0-9]"; }
if [ -x "$cs_bin" ] && cs_version | grep -q "^$CS_VERSION "; then
  say "code-server $CS_VERSION present"
else
  say "install code-server $CS_VERSION into $CS_DIR (a few minutes: native modules build)"
  mkdir -p "$CS_DIR"
  tmp=${TMPDIR:-/tmp}
  rg_cache=$tmp/vscode-ripgrep-cache-$RG_PKG_VERSION
  if [ ! -f "$rg_cache/$RG_ASSET" ]; then
    staging=$(mktemp -d)
    cp "$(command -v rg)" "$staging/rg"
    mkdir -p "$rg_cache"
    tar czf "$rg_cache/$RG_ASSET" -C "$staging" rg
    rm -rf "$staging"
  fi
  [ -f "$CS_DIR/package.json" ] || echo '{"name": "zwarm-code-server", "private": true}' > "$CS_DIR/package.json"
  # unsafe_perm: its postinstall refuses root otherwise; yes: node-pty's postinstall runs
  # npx node-gyp, which this machine's npm config would cancel; build_from_source: skip
  # prebuild-install's doomed GitHub download.
  (cd "$CS_DIR" && npm_config_unsafe_perm=true npm_config_yes=true \
    npm_config_build_from_source=true \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION" >"$CS_DIR/install.log" 2>&1) \
    || { tail -40 "$CS_DIR/install.log"; echo "code-server install failed" >&2; exit 1; }
  echo "  $(cs_version)"
fi
