#!/usr/bin/env bash
# Keeps the C++ sources in the project's style (.clang-format: Google, 120 columns).
#
#   bash scripts/format.sh           # rewrite every tracked C++ file in place
#   bash scripts/format.sh --check   # change nothing; list the files that differ and exit 1 if any (CI runs this)
#
# clang-format's output changes between major versions, so the check pins the one Debian 12 ships (14).
set -euo pipefail
cd "$(dirname "$0")/.."

formatter=clang-format-14
command -v "$formatter" >/dev/null || { echo "format.sh: $formatter not found; run scripts/install_deps.sh" >&2; exit 2; }
mapfile -t sources < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')

if [ "${1:-}" = "--check" ]; then
  # One clang-format process for the tree; each difference is a warning that starts with its file's name.
  mapfile -t unformatted < <("$formatter" --dry-run "${sources[@]}" 2>&1 | grep -oP '^[^:\s]+(?=:\d+:\d+: warning)' | sort -u)
  if [ ${#unformatted[@]} -gt 0 ]; then
    echo "format.sh: ${#unformatted[@]} file(s) differ from .clang-format; run 'bash scripts/format.sh' and commit:" >&2
    printf '  %s\n' "${unformatted[@]}" >&2
    exit 1
  fi
  echo "format.sh: all ${#sources[@]} C++ files follow .clang-format"
else
  "$formatter" -i "${sources[@]}"
fi
