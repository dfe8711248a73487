#!/usr/bin/env bash
# Build a pinned DPDK and intel-ipsec-mb from Debian's *source* packages and
# install them into meson-deps/_install/, for hosts whose packaged DPDK does
# not fit (wrong version, missing PMD, different build options...).
#
# Usage (as root, from any directory):
#     bash meson-deps/build-from-source.sh
# then configure dpvpn with:
#     cmake -DDPVPN_DPDK_FROM_SOURCE=ON ...
#
# Idempotent: every step is skipped when its result is already there and was
# made from the pinned versions and the same options (stamp files in _build/).
# Environment knobs:
#     JOBS=N          parallel compile jobs (default: nproc)
#     NICE=N          niceness of the compile steps (default: 10)
#     WITH_MLX5=0     leave out net/mlx5 (+ common/mlx5, bus/auxiliary)
#     FORCE=1         rebuild everything (removes _build/ and _install/)
set -euo pipefail

# --- pinned versions (Debian 12 "bookworm" source packages) -----------------
DPDK_SRC_PKG=dpdk
DPDK_DEB_VERSION=22.11.11-0+deb12u1    # apt-cache showsrc dpdk
DPDK_VERSION=22.11.11                  # what pkg-config --modversion libdpdk prints
IPSEC_MB_SRC_PKG=intel-ipsec-mb
IPSEC_MB_DEB_VERSION=1.3-2             # apt-cache showsrc intel-ipsec-mb
IPSEC_MB_VERSION=1.3

# --- layout ------------------------------------------------------------------
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
SRC_DIR="$HERE/_src"
BUILD_DIR="$HERE/_build"
PREFIX="$HERE/_install"
JOBS="${JOBS:-$(nproc)}"
NICE="${NICE:-10}"
WITH_MLX5="${WITH_MLX5:-1}"

# Drivers dpvpn needs (directory names under dpdk/drivers/).  common/iavf is
# a dependency of net/ice; bus/auxiliary + common/mlx5 of net/mlx5.
DPDK_DRIVERS=(
    bus/vdev bus/pci
    mempool/ring
    net/pcap net/ring net/null net/tap net/af_packet net/memif
    net/ixgbe net/i40e common/iavf net/ice
    crypto/ipsec_mb crypto/null crypto/openssl
)
if [[ "$WITH_MLX5" == 1 ]]; then
    DPDK_DRIVERS+=(bus/auxiliary common/mlx5 net/mlx5)
fi

# Optional DPDK libraries dpvpn does not use (only names from the
# "optional_libs" list of dpdk/lib/meson.build may go here).  Everything dpvpn
# needs (eal, mbuf, mempool, ring, ethdev, net, hash, rcu, lpm, fib, rib,
# cryptodev, security, ipsec, ip_frag, telemetry, pcapng, pdump, kvargs, meter,
# timer, cmdline) stays, as do the small libs testpmd/proc-info use.
DPDK_DISABLE_LIBS=(flow_classify kni gpudev jobstats node pipeline port table vhost)

# DPDK applications worth having next to the libraries (app/ directory names).
DPDK_APPS=(dumpcap pdump proc-info test-pmd test-crypto-perf test-security-perf test-fib test-sad)

# Build dependencies (Debian package names).
BUILD_DEPS=(
    build-essential dpkg-dev pkg-config
    meson ninja-build python3-pyelftools
    nasm                      # intel-ipsec-mb assembly
    libnuma-dev               # EAL NUMA support
    libpcap-dev               # net/pcap, lib/pcapng users
    libssl-dev                # crypto/openssl
    libelf-dev zlib1g-dev     # lib/bpf ELF loading (pdump filters), compress
)
if [[ "$WITH_MLX5" == 1 ]]; then
    BUILD_DEPS+=(libibverbs-dev)   # rdma-core: net/mlx5
fi

log() { printf '\n=== [%(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root (needs apt-get)"
export DEBIAN_FRONTEND=noninteractive

if [[ "${FORCE:-0}" == 1 ]]; then
    log "FORCE=1: removing $BUILD_DIR and $PREFIX"
    rm -rf "$BUILD_DIR" "$PREFIX"
fi
mkdir -p "$SRC_DIR" "$BUILD_DIR" "$PREFIX"
START=$SECONDS

# --- 1. deb-src apt source ---------------------------------------------------
# Mirror every "Types: deb" stanza of debian.sources (URIs/Suites/Components/
# Signed-By) as a "Types: deb-src" stanza in a file of our own.
ensure_deb_src() {
    local main=/etc/apt/sources.list.d/debian.sources
    local ours=/etc/apt/sources.list.d/dpvpn-deb-src.sources
    local want added=0
    if [[ ! -r "$main" ]]; then
        # Older one-line format: mirror each "deb" line of sources.list.
        [[ -r /etc/apt/sources.list ]] || die "neither $main nor /etc/apt/sources.list: add a deb-src source by hand"
        ours=/etc/apt/sources.list.d/dpvpn-deb-src.list
        want="$(sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list)"
        [[ -n "$want" ]] || die "no 'deb' line in /etc/apt/sources.list"
        main=""
    fi
    [[ -z "$main" ]] || want="$(awk '
        function flush() {
            if (isdeb && uris != "") {
                printf "%sTypes: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", sep, uris, suites, comps
                if (signed != "") printf "Signed-By: %s\n", signed
                sep = "\n"
            }
            isdeb = 0; uris = suites = comps = signed = ""
        }
        /^[ \t]*$/ { flush(); next }
        /^#/ { next }
        # stanzas that already list deb-src need no copy
        /^Types:/      { sub(/^Types:[ \t]*/, "");      isdeb = ($0 ~ /(^| )deb( |$)/ && $0 !~ /deb-src/); next }
        /^URIs:/       { sub(/^URIs:[ \t]*/, "");       uris = $0; next }
        /^Suites:/     { sub(/^Suites:[ \t]*/, "");     suites = $0; next }
        /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0; next }
        /^Signed-By:/  { sub(/^Signed-By:[ \t]*/, "");  signed = $0; next }
        END { flush() }' "$main")"
    if [[ -z "$want" ]]; then
        # every stanza already has deb-src (or none is "deb"): nothing to add
        [[ -f "$ours" ]] && { rm -f "$ours"; added=1; }
        want=""
    fi
    [[ -z "$want" ]] || want="# Written by dpvpn meson-deps/build-from-source.sh: source packages for apt-get source.
$want"
    if [[ -n "$want" ]] && { [[ ! -f "$ours" ]] || [[ "$(cat "$ours")" != "$want" ]]; }; then
        log "writing $ours"
        printf '%s\n' "$want" >"$ours"
        added=1
    fi
    if [[ $added == 1 ]]; then
        log "apt-get update (new deb-src source)"
        apt-get update -qq
    elif ! grep -q '^Package:' <<<"$(apt-cache showsrc "$DPDK_SRC_PKG" 2>/dev/null || true)"; then
        # Source file already there but lists never fetched (fresh machine).
        log "apt-get update (source lists missing)"
        apt-get update -qq
    fi
}

# --- 2. build dependencies ---------------------------------------------------
ensure_build_deps() {
    local missing=() p
    for p in "${BUILD_DEPS[@]}"; do
        [[ "$p" == \#* ]] && continue
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "apt-get install ${missing[*]}"
        apt-get install -y --no-install-recommends "${missing[@]}" \
            || { apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}"; }
    else
        log "build dependencies already installed"
    fi
}

# --- 3. sources --------------------------------------------------------------
# apt-get source extracts to <srcpkg>-<upstream version>/ with Debian's patches
# applied (format 3.0 (quilt)).
fetch_source() {
    local pkg=$1 debver=$2 upver=$3
    local dir="$SRC_DIR/$pkg-$upver"
    if [[ -f "$dir/.dpvpn-fetched-$debver" ]]; then
        log "$pkg $debver source already in $dir"
        return
    fi
    # (no "cmd | grep -q" under pipefail: grep exits early, cmd gets SIGPIPE)
    local avail; avail="$(apt-cache showsrc "$pkg" 2>/dev/null | grep '^Version:' || true)"
    if ! grep -qxF "Version: $debver" <<<"$avail"; then
        printf '%s\n' "$avail" >&2
        die "source package $pkg=$debver not offered by the configured mirror (versions above)"
    fi
    log "apt-get source $pkg=$debver"
    rm -rf "$dir"
    (cd "$SRC_DIR" && apt-get source -q --only-source "$pkg=$debver")
    [[ -d "$dir" ]] || die "apt-get source did not produce $dir"
    touch "$dir/.dpvpn-fetched-$debver"
}

# --- 4. intel-ipsec-mb -------------------------------------------------------
build_ipsec_mb() {
    local dir="$SRC_DIR/$IPSEC_MB_SRC_PKG-$IPSEC_MB_VERSION"
    local stamp="$BUILD_DIR/.ipsec-mb-$IPSEC_MB_DEB_VERSION.installed"
    if [[ -f "$stamp" && -f "$PREFIX/include/intel-ipsec-mb.h" ]] \
        && compgen -G "$PREFIX/lib/libIPSec_MB.so*" >/dev/null; then
        log "intel-ipsec-mb $IPSEC_MB_DEB_VERSION already installed in $PREFIX"
        return
    fi
    log "building intel-ipsec-mb $IPSEC_MB_DEB_VERSION ($JOBS jobs, nice $NICE)"
    # Out-of-tree builds are not supported by its Makefile: build in a copy so
    # the extracted source stays pristine.
    rm -rf "$BUILD_DIR/ipsec-mb"
    cp -a "$dir" "$BUILD_DIR/ipsec-mb"
    nice -n "$NICE" make -C "$BUILD_DIR/ipsec-mb/lib" -j"$JOBS" SHARED=y
    mkdir -p "$PREFIX/include" "$PREFIX/lib" "$PREFIX/share/man/man7"
    make -C "$BUILD_DIR/ipsec-mb/lib" install SHARED=y NOLDCONFIG=y \
        PREFIX="$PREFIX" LIB_INSTALL_DIR="$PREFIX/lib" HDR_DIR="$PREFIX/include" \
        MAN_DIR="$PREFIX/share/man/man7"
    [[ -f "$PREFIX/include/intel-ipsec-mb.h" ]] || die "intel-ipsec-mb.h not installed"
    compgen -G "$PREFIX/lib/libIPSec_MB.so*" >/dev/null || die "libIPSec_MB.so not installed"
    touch "$stamp"
}

# --- 5. DPDK -----------------------------------------------------------------
build_dpdk() {
    local dir="$SRC_DIR/$DPDK_SRC_PKG-$DPDK_VERSION"
    local bdir="$BUILD_DIR/dpdk"
    local drivers; drivers="$(IFS=,; echo "${DPDK_DRIVERS[*]}")"
    local dislibs; dislibs="$(IFS=,; echo "${DPDK_DISABLE_LIBS[*]}")"
    local apps; apps="$(IFS=,; echo "${DPDK_APPS[*]}")"
    local opts=(
        --prefix="$PREFIX"
        --libdir=lib
        --buildtype=release
        -Dplatform=generic          # as Debian builds it: runs on any x86-64 with SSE4.2
        -Dexamples=
        -Dtests=false
        -Denable_docs=false
        -Denable_kmods=false
        -Ddisable_drivers=
        -Denable_drivers="$drivers"
        -Ddisable_libs="$dislibs"
        -Denable_apps="$apps"
        -Dc_args="-I$PREFIX/include"
        -Dc_link_args="-L$PREFIX/lib -Wl,-rpath,$PREFIX/lib"
    )
    # Stamp keyed on version + options, so a change of driver list reconfigures.
    local key; key="$(printf '%s\n' "$DPDK_DEB_VERSION" "${opts[@]}" | sha1sum | cut -c1-12)"
    local stamp="$BUILD_DIR/.dpdk-$DPDK_DEB_VERSION-$key.installed"
    if [[ -f "$stamp" ]] && PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --exists "libdpdk = $DPDK_VERSION"; then
        log "DPDK $DPDK_DEB_VERSION already installed in $PREFIX (options unchanged)"
        return
    fi
    log "configuring DPDK $DPDK_DEB_VERSION"
    log "drivers: $drivers"
    # pkg-config must see our intel-ipsec-mb first (it ships no .pc in 1.3;
    # crypto/ipsec_mb finds it with cc.find_library + c_args include dir).
    export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LIBRARY_PATH="$PREFIX/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
    export C_INCLUDE_PATH="$PREFIX/include${C_INCLUDE_PATH:+:$C_INCLUDE_PATH}"
    if [[ -f "$bdir/build.ninja" ]]; then
        meson setup --reconfigure "$bdir" "$dir" "${opts[@]}"
    else
        rm -rf "$bdir"
        meson setup "$bdir" "$dir" "${opts[@]}"
    fi
    # Fail early if a driver we asked for was skipped for a missing dependency.
    local d name missing=()
    for d in "${DPDK_DRIVERS[@]}"; do
        name="${d/\//_}"
        grep -q "librte_${name}\.so" "$bdir/build.ninja" || missing+=("$d")
    done
    if ((${#missing[@]})); then
        grep -A3 -i 'Drivers Disabled' "$bdir/meson-logs/meson-log.txt" | tail -n +1 >&2 || true
        die "DPDK drivers not enabled by meson: ${missing[*]} (see $bdir/meson-logs/meson-log.txt)"
    fi
    log "compiling DPDK ($JOBS jobs, nice $NICE)"
    nice -n "$NICE" ninja -C "$bdir" -j"$JOBS"
    log "installing DPDK into $PREFIX"
    meson install -C "$bdir" --quiet
    local got; got="$(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" pkg-config --modversion libdpdk)"
    [[ "$got" == "$DPDK_VERSION" ]] || die "installed libdpdk is $got, expected $DPDK_VERSION"
    rm -f "$BUILD_DIR"/.dpdk-*.installed
    touch "$stamp"
}

ensure_deb_src
ensure_build_deps
fetch_source "$IPSEC_MB_SRC_PKG" "$IPSEC_MB_DEB_VERSION" "$IPSEC_MB_VERSION"
fetch_source "$DPDK_SRC_PKG" "$DPDK_DEB_VERSION" "$DPDK_VERSION"
build_ipsec_mb
build_dpdk

PMD_DIR="$(ls -d "$PREFIX"/lib/dpdk/pmds-* 2>/dev/null | head -1 || true)"
log "done in $(( (SECONDS - START) / 60 )) min $(( (SECONDS - START) % 60 )) s"
cat <<EOF

DPDK $DPDK_DEB_VERSION and intel-ipsec-mb $IPSEC_MB_DEB_VERSION are installed in:
    $PREFIX
    libdpdk:   PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --modversion libdpdk
    PMDs:      ${PMD_DIR:-<none found>}
    ipsec-mb:  $PREFIX/include/intel-ipsec-mb.h, $PREFIX/lib/libIPSec_MB.so

Configure dpvpn against them with:

    -DDPVPN_DPDK_FROM_SOURCE=ON

e.g.  cmake -S . -B build -G Ninja -DDPVPN_DPDK_FROM_SOURCE=ON
EOF
