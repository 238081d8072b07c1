#!/bin/sh
# Loads OCI archives built by //tools/oci:image.bzl into podman, and into
# Docker when a Docker engine answers. Usage: load.sh IMAGE.tar...
set -eu
loaded=0
if command -v podman >/dev/null 2>&1; then
  for t in "$@"; do podman load -q -i "$t"; done
  loaded=1
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  for t in "$@"; do docker load -q -i "$t"; done
  loaded=1
fi
if [ "$loaded" = 0 ]; then
  echo "load.sh: neither podman nor a running Docker engine found (bash ops/setup.sh installs podman)" >&2
  exit 1
fi
