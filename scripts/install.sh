#!/usr/bin/env bash
# One-step install for a fresh Debian machine: the guest toolchains (C/C++/Rust for
# wasm32-wasi) and the benchmark peers (gcc, wrk, gVisor runsc) from Debian, then the npm
# packages (which pin Node 24 for the project; workerd comes from npm). bubblewrap and
# util-linux (prlimit) jail the host shards (docs/security.md); busybox-static is the
# unmodified Linux program the linux driver's tests run under runsc (docs/linux-driver.md).
# chromium runs the dashboard's browser tests (driven by playwright-core, which downloads
# no browser of its own); openssl makes the certificate of the dashboard's TLS test.
# Ends with `nanovisor` on PATH (scripts/link-bin.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(curl clang lld wasi-libc libclang-rt-14-dev-wasm32 libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 rustc libstd-rust-dev-wasm32 gcc wrk runsc bubblewrap util-linux busybox-static chromium openssl)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# `npm install` rather than `npm ci`: the lock file here cannot list workerd's optional
# packages for other platforms (the registry mirror omits them), which `npm ci` refuses.
# It also runs `prepare`, which builds dist/ (what the CLI runs: docs/performance.md, start-up).
npm install --no-fund --no-audit
# npm on the system's Node 20 skips optional packages whose engines want Node 22+ (the native
# lzma binding componentize-js needs, for one): once node@24 is in, install again under it.
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 24 ]; then
  PATH="$PWD/node_modules/.bin:$PATH" npm install --no-fund --no-audit
fi
bash scripts/link-bin.sh
echo "nanovisor installed: try 'nanovisor demo'"
