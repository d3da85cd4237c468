#!/usr/bin/env bash
# The logic of the drlint GitHub Action (action.yml at the repository root), usable in any
# CI: get drlint (a binary given, a release download checked against its .sha256, or a
# cargo build of this checkout), write a SARIF report for code scanning, and exit with
# drlint's status (0 clean, 1 findings at or above fail-on, 2 usage or parse errors).
#
# Inputs, from the environment (action.yml maps its inputs onto these):
#   INPUT_VERSION       drlint release, e.g. 0.2.0 (default: the version of this checkout)
#   INPUT_PATHS         files or directories to lint, separated by spaces or newlines (default .)
#   INPUT_FAIL_ON       note, warning (default), error or never
#   INPUT_SARIF_FILE    where the SARIF report goes (default drlint.sarif)
#   INPUT_ARGS          more drlint arguments (e.g. --config ci/.drlint.toml), split on spaces
#   INPUT_ANNOTATIONS   true (default): also print GitHub workflow annotations
#   INPUT_BINARY        a drlint executable to use as is (skips installing)
#   INPUT_INSTALL       auto (default: download the release, build with cargo if there is
#                       none), download, or build
#   INPUT_RELEASE_URL   where releases live (default https://github.com/drkit/drkit/releases/download);
#                       file:// works, for mirrors and tests
# Outputs (to $GITHUB_OUTPUT when set, and always to standard error):
#   sarif-file, exit-code, findings, drlint-path, drlint-version
# A checksum that does not match is an error, never a reason to fall back to a build.
set -euo pipefail

action_root=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'drlint-action: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

workspace_version() {
  awk '
    /^\[workspace\.package\]/ { in_pkg = 1; next }
    /^\[/ { in_pkg = 0 }
    in_pkg && $1 == "version" { gsub(/[" ]/, "", $3); print $3; exit }
  ' "$action_root/Cargo.toml" 2>/dev/null
}

version="${INPUT_VERSION:-}"
version="${version#v}"
[ -n "$version" ] || version=$(workspace_version)
paths="${INPUT_PATHS:-.}"
fail_on="${INPUT_FAIL_ON:-warning}"
sarif_file="${INPUT_SARIF_FILE:-drlint.sarif}"
annotations="${INPUT_ANNOTATIONS:-true}"
install="${INPUT_INSTALL:-auto}"
release_url="${INPUT_RELEASE_URL:-https://github.com/drkit/drkit/releases/download}"
release_url="${release_url%/}"
cache_root="${DRLINT_CACHE_DIR:-${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/drlint}"

case "$fail_on" in note|warning|error|never) ;; *) die "fail-on must be note, warning, error or never, not \"$fail_on\"" ;; esac
case "$install" in auto|download|build) ;; *) die "install must be auto, download or build, not \"$install\"" ;; esac
case "$annotations" in true|false) ;; *) die "annotations must be true or false, not \"$annotations\"" ;; esac

# The release target of this runner, or nothing when drkit publishes none for it.
release_target() {
  [ "$(uname -s)" = Linux ] || return 0
  case "$(uname -m)" in
    x86_64|amd64) echo x86_64-unknown-linux-gnu ;;
    aarch64|arm64) echo aarch64-unknown-linux-gnu ;;
  esac
}

# download VERSION TARGET DIR: the release tarball, checked, unpacked; prints the binary.
# Returns 3 when the release is not there (so a build may stand in), dies on a bad checksum.
download() {
  local version=$1 target=$2 dir=$3
  local name="drlint-${version}-${target}"
  local url="$release_url/v${version}/${name}.tar.gz"
  local tmp
  tmp=$(mktemp -d)
  say "downloading $url"
  if ! curl -fsSL --retry 3 -o "$tmp/$name.tar.gz" "$url" \
    || ! curl -fsSL --retry 3 -o "$tmp/$name.tar.gz.sha256" "$url.sha256"; then
    rm -rf "$tmp"
    return 3
  fi
  if ! (cd "$tmp" && sha256sum --check --strict --quiet "$name.tar.gz.sha256" >&2); then
    rm -rf "$tmp"
    die "$name.tar.gz does not match its published SHA-256 ($url.sha256): refusing to run it"
  fi
  # The .sha256 must name this very file: a sums file for something else checks nothing.
  grep -q "  $name.tar.gz\$" "$tmp/$name.tar.gz.sha256" \
    || { rm -rf "$tmp"; die "$url.sha256 does not list $name.tar.gz"; }
  mkdir -p "$dir"
  tar -xzf "$tmp/$name.tar.gz" -C "$tmp"
  mv "$tmp/$name/drlint" "$dir/drlint"
  rm -rf "$tmp"
  echo "$dir/drlint"
}

# build DIR: drlint from this checkout with cargo (no protoc needed); prints the binary.
build() {
  local dir=$1
  command -v cargo >/dev/null || die "no drlint release to download and no cargo to build one: \
install Rust (e.g. dtolnay/rust-toolchain) before this action, or set install: download"
  [ -f "$action_root/linter/Cargo.toml" ] || die "no drlint sources at $action_root/linter"
  say "building drlint from $action_root with cargo (release profile)"
  local target_dir="${CARGO_TARGET_DIR:-$cache_root/build}"
  local locked=()
  [ -f "$action_root/Cargo.lock" ] && locked=(--locked)
  cargo build "${locked[@]}" --release -p drlint \
    --manifest-path "$action_root/Cargo.toml" --target-dir "$target_dir" >&2
  mkdir -p "$dir"
  cp "$target_dir/release/drlint" "$dir/drlint"
  echo "$dir/drlint"
}

# --- get drlint ------------------------------------------------------------------------
if [ -n "${INPUT_BINARY:-}" ]; then
  drlint=$(command -v "$INPUT_BINARY" || true)
  [ -n "$drlint" ] && [ -x "$drlint" ] || die "binary \"$INPUT_BINARY\" is not an executable (path or command on PATH)"
else
  [ -n "$version" ] || die "no version given and none in $action_root/Cargo.toml"
  target=$(release_target)
  dir="$cache_root/$version/${target:-source}"
  if [ -x "$dir/drlint" ]; then
    drlint="$dir/drlint"
    say "using cached $drlint"
  else
    status=0
    if [ "$install" != build ] && [ -n "$target" ]; then
      drlint=$(download "$version" "$target" "$dir") || status=$?
      # 3 is "no such release"; anything else (a bad checksum) already said why.
      [ "$status" -eq 0 ] || [ "$status" -eq 3 ] || exit "$status"
    else
      status=3
    fi
    if [ "$status" -ne 0 ]; then
      if [ "$install" = download ]; then
        die "no drlint $version release for ${target:-$(uname -sm)} at $release_url (install: download)"
      fi
      [ "$install" = build ] || say "no release download for drlint $version ${target:-($(uname -sm))}: building it instead"
      drlint=$(build "$dir")
    fi
  fi
fi

drlint_version=$("$drlint" --version | awk '{ print $2 }')
if [ -n "$version" ] && [ -z "${INPUT_BINARY:-}" ] && [ "$drlint_version" != "$version" ]; then
  die "$drlint reports version $drlint_version, not the requested $version"
fi
say "drlint $drlint_version at $drlint"

# --- lint ------------------------------------------------------------------------------
read -r -a path_args <<< "$(printf '%s' "$paths" | tr '\n' ' ')"
read -r -a extra_args <<< "${INPUT_ARGS:-}"
mkdir -p "$(dirname "$sarif_file")"

status=0
"$drlint" --format sarif --output "$sarif_file" --fail-on "$fail_on" \
  ${extra_args[@]+"${extra_args[@]}"} -- "${path_args[@]}" || status=$?
[ -f "$sarif_file" ] || die "drlint exited $status and wrote no $sarif_file"

# The count of active (not suppressed) findings, from the JSON report's "rule" keys.
findings=$("$drlint" --format json --fail-on never ${extra_args[@]+"${extra_args[@]}"} \
  -- "${path_args[@]}" 2>/dev/null | grep -c '^ *"rule": "' || true)

if [ "$annotations" = true ]; then
  "$drlint" --format github --fail-on never ${extra_args[@]+"${extra_args[@]}"} \
    -- "${path_args[@]}" || true
fi

sarif_abs="$(cd "$(dirname "$sarif_file")" && pwd)/$(basename "$sarif_file")"
outputs="sarif-file=$sarif_abs
exit-code=$status
findings=$findings
drlint-path=$drlint
drlint-version=$drlint_version"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf '%s\n' "$outputs" >> "$GITHUB_OUTPUT"
fi
printf '%s\n' "$outputs" | sed 's/^/drlint-action: output /' >&2

case "$status" in
  0) say "no findings at or above $fail_on ($findings in all)" ;;
  1) say "$findings finding(s); some at or above $fail_on: failing (the SARIF file is written for the upload step)" ;;
  *) say "drlint exited $status (usage, configuration or parse errors; see above)" ;;
esac
exit "$status"
