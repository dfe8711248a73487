#!/usr/bin/env bash
# Installs the Debian packages dpvpn needs (meson-deps/debian-packages.txt) when missing, then
# configures and builds. Idempotent: a second run installs nothing and rebuilds only what changed.
#   BUILD_DIR=build  BUILD_TYPE=Release|Debug|RelWithDebInfo  SANITIZE=ON|OFF  CMAKE_ARGS="..."
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
build_type=${BUILD_TYPE:-Release}
sanitize=${SANITIZE:-OFF}

mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$root/meson-deps/debian-packages.txt" | awk '{print $1}')
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# shellcheck disable=SC2086
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DDPVPN_SANITIZE="$sanitize" \
  ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
