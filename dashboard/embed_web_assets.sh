#!/bin/sh
# embed_web_assets.sh OUT.cc FILE... — writes a C++ source holding each file as
# a raw string literal (coreutils only: no xxd, no Python in the build).
set -eu
out=$1; shift
delim='op_embed_7f3a'
{
  echo '#include "dashboard/web_assets.h"'
  echo 'namespace op::dashboard {'
  echo 'const std::vector<WebAsset>& WebAssets() {'
  echo '  static const std::vector<WebAsset> assets = {'
  for f in "$@"; do
    if grep -q ")$delim\"" "$f"; then echo "embed_web_assets.sh: $f contains the delimiter" >&2; exit 1; fi
    name=$(basename "$f")
    case "$name" in
      *.html) type='text/html; charset=utf-8' ;;
      *.js) type='text/javascript; charset=utf-8' ;;
      *.css) type='text/css; charset=utf-8' ;;
      *.svg) type='image/svg+xml' ;;
      *) type='application/octet-stream' ;;
    esac
    printf '    {"/%s", "%s", R"%s(' "$name" "$type" "$delim"
    cat "$f"
    printf ')%s"},\n' "$delim"
  done
  echo '  };'
  echo '  return assets;'
  echo '}'
  echo '}  // namespace op::dashboard'
} > "$out"
