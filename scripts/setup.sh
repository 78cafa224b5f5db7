#!/usr/bin/env bash
# Installs the Debian packages tilesim needs to build and test. Idempotent; silent when all are present.
set -euo pipefail

packages=(
  cmake g++ make pkg-config ccache
  libsystemc-dev libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev catch2
  python3-dev pybind11-dev python3-numpy python3-pandas python3-matplotlib python3-distributed
  libsqlite3-dev zlib1g-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
