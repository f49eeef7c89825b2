#!/usr/bin/env bash
# Puts `nanovisor` on PATH: a symlink to this checkout's bin/nanovisor (which execs the
# pinned Node 24, see its header). Into /usr/local/bin when that is writable (root, as CI
# runs scripts/install.sh), else into ~/.local/bin, saying so when that is not on PATH.
# NANOVISOR_BIN_DIR=dir picks the directory. Run by scripts/install.sh; safe to re-run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$root/bin/nanovisor"
dir="${NANOVISOR_BIN_DIR:-}"
if [ -z "$dir" ]; then
  if [ -w /usr/local/bin ]; then dir=/usr/local/bin; else dir="$HOME/.local/bin"; fi
fi
mkdir -p "$dir"
link="$dir/nanovisor"
if [ -e "$link" ] && [ ! -L "$link" ]; then
  echo "nanovisor: $link exists and is not a symlink; not replacing it. Run $target directly, or remove $link and re-run $0." >&2
  exit 1
fi
ln -sfn "$target" "$link"
echo "nanovisor: $link -> $target"
case ":$PATH:" in
  *":$dir:"*) ;;
  *) echo "nanovisor: $dir is not on your PATH; add it (e.g. echo 'export PATH=\"$dir:\$PATH\"' >> ~/.profile) or run $link" ;;
esac
