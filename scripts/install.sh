#!/bin/sh
# Installs awskeep from a release: Linux (x86_64, aarch64; static binaries) and macOS (arm64, x86_64).
#
#   curl -fsSL https://github.com/OWNER/awskeep/releases/latest/download/install.sh | sh
#   sh install.sh [--dir DIR] [--version V] [--base-url URL] [--uninstall]
#
# Downloads the archive for this machine and SHA256SUMS, checks the archive's SHA-256 against it
# (refusing to install on a mismatch), and installs without root:
#   the binary        $AWSKEEP_INSTALL_DIR, --dir, else ~/.local/bin
#   man pages         ~/.local/share/man/man1
#   bash completion   ~/.local/share/bash-completion/completions/awskeep
#   fish completion   ~/.config/fish/completions/awskeep.fish (when fish is installed)
# Run it again to upgrade: the binary is replaced in place (same path, so the credential_process
# lines in ~/.aws/config keep working). --uninstall removes these files again.
# --base-url (or AWSKEEP_DOWNLOAD_URL) is the folder holding the archives and SHA256SUMS (a mirror,
# or a local server: `python3 -m http.server` in dist/); default: this repository's GitHub release.
set -eu

default_repo=awskeep/awskeep
repo=${AWSKEEP_REPO:-$default_repo}
dir=${AWSKEEP_INSTALL_DIR:-}
base_url=${AWSKEEP_DOWNLOAD_URL:-}
version=""
uninstall=""

say() { printf 'awskeep install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
  case $1 in
    --dir) [ $# -ge 2 ] || die "--dir needs a folder"; dir=$2; shift ;;
    --version) [ $# -ge 2 ] || die "--version needs a version, e.g. 0.1.0"; version=${2#v}; shift ;;
    --base-url) [ $# -ge 2 ] || die "--base-url needs a URL"; base_url=$2; shift ;;
    --uninstall) uninstall=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
  shift
done

[ -n "${HOME:-}" ] || die "HOME is not set"
dir=${dir:-$HOME/.local/bin}
data=${XDG_DATA_HOME:-$HOME/.local/share}
man_dir=$data/man/man1
bash_comp=$data/bash-completion/completions/awskeep
fish_comp=${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions/awskeep.fish

if [ -n "$uninstall" ]; then
  rm -f "$dir/awskeep" "$bash_comp" "$fish_comp" "$man_dir"/awskeep.1 "$man_dir"/awskeep-*.1
  say "removed $dir/awskeep, its man pages and completions; your keychain items and ~/.aws/config are untouched"
  say "(profiles awskeep served now fail: before uninstalling, 'awskeep list' and 'awskeep remove NAME --yes' for each)"
  exit 0
fi

case $(uname -s) in
  Linux) os=unknown-linux-musl ;;
  Darwin) os=apple-darwin ;;
  *) die "no prebuilt awskeep for $(uname -s): on Windows use install.ps1; elsewhere build from source (cargo install --locked)" ;;
esac
case $(uname -m) in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) die "no prebuilt awskeep for $(uname -m); build from source (cargo install --locked)" ;;
esac
# An x86_64 shell under Rosetta on an Apple silicon Mac: install the native build.
if [ "$os" = apple-darwin ] && [ "$arch" = x86_64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
  arch=aarch64
fi
target=$arch-$os

if [ -z "$base_url" ]; then
  if [ -n "$version" ]; then
    base_url=https://github.com/$repo/releases/download/v$version
  else
    base_url=https://github.com/$repo/releases/latest/download
  fi
fi
base_url=${base_url%/}

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --proto '=https,http,file' --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "needs curl or wget"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "needs sha256sum or shasum to check the download"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/awskeep-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $base_url/SHA256SUMS"
# The line for this machine's archive: awskeep-VERSION-TARGET.tar.gz (of --version, if given).
line=$(grep -E "^[0-9a-f]{64} [ *]awskeep-${version:-[0-9][^ ]*}-$target\.tar\.gz\$" "$tmp/SHA256SUMS" | head -n 1 || true)
[ -n "$line" ] || die "$base_url has no awskeep${version:+ $version} archive for $target"
expected=$(printf '%s\n' "$line" | cut -d ' ' -f 1)
archive=$(printf '%s\n' "$line" | sed 's/^[0-9a-f]* [ *]//')
say "downloading $base_url/$archive"
fetch "$base_url/$archive" "$tmp/$archive" || die "could not download $base_url/$archive"
actual=$(sha256 "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual; nothing was installed"
fi

tar -xzf "$tmp/$archive" -C "$tmp"
src=$tmp/${archive%.tar.gz}
[ -f "$src/awskeep" ] || die "$archive holds no awskeep binary"
"$src/awskeep" --version >/dev/null 2>&1 || die "the downloaded awskeep does not run on this machine"

mkdir -p "$dir"
# Into the same folder first, then renamed over the old one: a running awskeep keeps its file, and
# no AWS call ever finds a half-written binary.
cp "$src/awskeep" "$dir/.awskeep.new.$$"
chmod 755 "$dir/.awskeep.new.$$"
mv -f "$dir/.awskeep.new.$$" "$dir/awskeep"
if [ -d "$src/man" ]; then
  mkdir -p "$man_dir" && cp "$src/man/"*.1 "$man_dir/"
fi
if [ -f "$src/completions/awskeep.bash" ]; then
  mkdir -p "$(dirname "$bash_comp")" && cp "$src/completions/awskeep.bash" "$bash_comp"
fi
if [ -f "$src/completions/awskeep.fish" ] && command -v fish >/dev/null 2>&1; then
  mkdir -p "$(dirname "$fish_comp")" && cp "$src/completions/awskeep.fish" "$fish_comp"
fi

say "installed $("$dir/awskeep" --version) to $dir/awskeep"
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "$dir is not on PATH: add it (e.g. echo 'export PATH=\"$dir:\$PATH\"' >> ~/.profile), then open a new shell" ;;
esac
say "next: awskeep add PROFILE (or awskeep migrate to move plaintext keys from ~/.aws/credentials)"
