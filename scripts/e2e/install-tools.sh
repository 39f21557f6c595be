#!/usr/bin/env bash
# Installs what the VS Code end-to-end tests need, outside the project's node_modules, and is a no-op when it is
# already there:
#   - Debian packages: chromium (driven by playwright-core), libkrb5-dev (code-server's kerberos build), ripgrep
#   - code-server (= VS Code 1.100.3 with a real Node extension host) from npm, in $OCTET_TOOLS_DIR
# Prints the code-server binary path on its last line.
set -euo pipefail
CS_VERSION=${OCTET_CODE_SERVER_VERSION:-4.100.3}   # last code-server whose engines accept Node 20
RG_VERSION=1.15.11                                 # @vscode/ripgrep pinned by code-server 4.100.3's shrinkwrap
TOOLS_DIR=${OCTET_TOOLS_DIR:-$HOME/.cache/octet-tools}
CS_DIR="$TOOLS_DIR/code-server-$CS_VERSION"
CS_BIN="$CS_DIR/node_modules/.bin/code-server"
say() { echo "[install-tools $(date +%T)] $*" >&2; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/rg ] || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || [ -x "$CS_BIN" ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -x "$CS_BIN" ] && "$CS_BIN" --version >/dev/null 2>&1; then
  say "code-server $CS_VERSION already in $CS_DIR"
  echo "$CS_BIN"; exit 0
fi

say "installing code-server $CS_VERSION into $CS_DIR (~2 min)"
# @vscode/ripgrep downloads rg at install time; seed its download cache with Debian's binary instead.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RG_VERSION"
mkdir -p "$RG_CACHE"
seed=$(mktemp -d); cp /usr/bin/rg "$seed/rg"
tar czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$seed" rg; rm -rf "$seed"

rm -rf "$CS_DIR.partial"; mkdir -p "$CS_DIR.partial"
(
  cd "$CS_DIR.partial"
  printf '{"name":"octet-tools","private":true}\n' > package.json
  # npm_config_yes: node-pty's postinstall runs npx, which a global `yes=false` would make fail.
  npm_config_yes=true npm install --no-audit --no-fund --no-save --unsafe-perm "code-server@$CS_VERSION" \
    > install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
)
rm -rf "$CS_DIR"; mv "$CS_DIR.partial" "$CS_DIR"
"$CS_BIN" --version | tail -1 >&2
echo "$CS_BIN"
