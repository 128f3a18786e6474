#!/bin/sh
# Installs @APP@ @VERSION@ (written by cargo-multiarch @TOOL_VERSION@).
#
#   curl -fsSL @BASE_URL@@APP@-installer.sh | sh
#   curl -fsSL @BASE_URL@@APP@-installer.sh | sh -s -- --to DIR
#
# Picks the archive built for this machine (uname -s, uname -m), downloads it from
# the release, checks its sha256 against the one written below (SHA256SUMS lists
# this script, so its signature covers what it installs), and moves its binaries
# into $CARGO_HOME/bin (else ~/.cargo/bin), or DIR. It never uses sudo and never
# edits a shell profile. Any failure exits non-zero with nothing installed.
set -u

app='@APP@'
version='@VERSION@'
base_url='@BASE_URL@'

# platform target archive sha256 binary=sha256..., most wanted first per platform.
archives='
@ARCHIVES@
'

say() { printf '%s\n' "$app-installer: $*" >&2; }
die() { say "error: $*"; exit 1; }

usage() {
  cat <<EOF
Installs $app $version from $base_url

Usage: $app-installer.sh [--to DIR]

  --to DIR    install the binaries into DIR [default: \$CARGO_HOME/bin, else ~/.cargo/bin]
  -h, --help  print this help
EOF
}

to=''
while [ $# -gt 0 ]; do
  case $1 in
    --to) [ $# -ge 2 ] || die "\`--to\` needs a directory (hint: --to ~/.local/bin)"; to=$2; shift 2 ;;
    --to=*) to=${1#--to=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument \`$1\` (hint: run with --help)" ;;
  esac
done
if [ -z "$to" ]; then
  if [ -n "${CARGO_HOME:-}" ]; then to=$CARGO_HOME/bin
  elif [ -n "${HOME:-}" ]; then to=$HOME/.cargo/bin
  else die "neither CARGO_HOME nor HOME is set (hint: pass --to DIR)"; fi
fi

sys=$(uname -s) || die "\`uname -s\` failed"
cpu=$(uname -m) || die "\`uname -m\` failed"
case $sys in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  FreeBSD) os=freebsd ;;
  NetBSD) os=netbsd ;;
  OpenBSD) os=openbsd ;;
  SunOS) os=illumos ;;
  MINGW*|MSYS*|CYGWIN*|Windows_NT)
    die "on Windows, run $app-installer.ps1 (hint: powershell -ExecutionPolicy Bypass -c \"irm ${base_url}$app-installer.ps1 | iex\")" ;;
  *) os=$sys ;;
esac
case $cpu in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  i386|i486|i586|i686|i86pc) arch=386 ;;
  armv7*) arch=arm/v7 ;;
  armv6*) arch=arm/v6 ;;
  ppc64le) arch=ppc64le ;;
  loongarch64) arch=loong64 ;;
  *) arch=$cpu ;;
esac
# An x86_64 shell under Rosetta runs on an arm64 Mac: take the native build.
if [ "$os" = darwin ] && [ "$arch" = amd64 ] \
  && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
  arch=arm64
fi

# The first archive listed for platform $1: "target archive sha256 binaries...".
pick() {
  printf '%s\n' "$archives" | while read -r p rest; do
    if [ "$p" = "$1" ]; then printf '%s\n' "$rest"; break; fi
  done
}
chosen=''
if [ "$os" = darwin ]; then chosen=$(pick darwin/universal2); fi
if [ -z "$chosen" ]; then chosen=$(pick "$os/$arch"); fi
if [ -z "$chosen" ]; then
  have=$(printf '%s\n' "$archives" | while read -r p rest; do [ -n "$p" ] && printf ' %s' "$p"; done)
  die "$app $version has no build for $os/$arch ($sys $cpu); this release has:${have:- none} (hint: build it from source with \`cargo install --locked $app\`)"
fi
# Every field is a plain name (checked when this script was written): split on spaces.
# shellcheck disable=SC2086
set -- $chosen
target=$1 file=$2 sum=$3
shift 3

need() { command -v "$1" >/dev/null 2>&1; }
need tar || die "\`tar\` is not installed (hint: install it, then run this again)"
need gzip || die "\`gzip\` is not installed (hint: install it, then run this again)"

sha256() {
  if need sha256sum; then sha256sum <"$1"
  elif need shasum; then shasum -a 256 <"$1"
  elif need openssl; then openssl dgst -sha256 <"$1" | sed 's/^.*= *//'
  else return 1
  fi | cut -d ' ' -f 1
}

fetch() {
  case $1 in https://*) secure=1 ;; *) secure='' ;; esac
  if need curl; then
    if [ -n "$secure" ]; then curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$2" "$1"
    else curl -fsSL --retry 3 -o "$2" "$1"; fi
  elif need wget; then
    if [ -n "$secure" ] && wget --help 2>&1 | grep -q -- --https-only; then wget --https-only -q -O "$2" "$1"
    else wget -q -O "$2" "$1"; fi
  else
    die "neither \`curl\` nor \`wget\` is installed (hint: install one, then run this again)"
  fi
}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t "$app-installer") || die "cannot make a temporary directory"
staged=''
cleanup() {
  for n in $staged; do rm -f "$to/.$n.installing.$$"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

say "downloading $file ($target)"
fetch "$base_url$file" "$tmp/$file" || die "cannot download \`$base_url$file\` (hint: check the network, or that the release has this file)"
got=$(sha256 "$tmp/$file") || die "no \`sha256sum\`, \`shasum\` or \`openssl\` to check the download (hint: install coreutils)"
if [ "$got" != "$sum" ]; then
  die "\`$file\` has sha256 $got, this installer expects $sum: refusing to install it (hint: download the installer again; if it persists, the release is damaged)"
fi
mkdir "$tmp/x" || die "cannot make a temporary directory"
(cd "$tmp/x" && tar -xzf "../$file") || die "cannot unpack \`$file\`"

# Check each binary, then stage them all beside their destination, then rename.
for b in "$@"; do
  path=${b%=*}
  [ -f "$tmp/x/$path" ] || die "\`$file\` has no \`$path\`"
  bin_sum=$(sha256 "$tmp/x/$path") || die "cannot hash \`$path\`"
  [ "$bin_sum" = "${b#*=}" ] || die "\`$path\` in \`$file\` has sha256 $bin_sum, this installer expects ${b#*=}"
done
mkdir -p "$to" || die "cannot create \`$to\` (hint: pass --to DIR naming a directory you can write)"
names=''
for b in "$@"; do
  path=${b%=*}
  n=${path##*/}
  staged="$staged $n"
  cp "$tmp/x/$path" "$to/.$n.installing.$$" && chmod 755 "$to/.$n.installing.$$" \
    || die "cannot write into \`$to\` (hint: pass --to DIR naming a directory you can write)"
  names="$names $n"
done
for n in $names; do
  mv -f "$to/.$n.installing.$$" "$to/$n" || die "cannot move \`$n\` into \`$to\`"
  say "installed $to/$n"
done
staged=''
case ":${PATH:-}:" in
  *":$to:"*) ;;
  *) say "note: \`$to\` is not on PATH; add it to your shell's PATH to run:$names" ;;
esac
