#!/usr/bin/env bash
# Copies the runtime dependencies of DIR/pom.xml from Maven Central into
# DIR/lib (Maven checks every artifact's checksum). Idempotent: does nothing
# when lib/ already holds the jars of this very pom.
#   ops/maven_fetch.sh DIR
set -euo pipefail
here=$(cd "$1" && pwd)
name=${here#"$(cd "$(dirname "$0")/.." && pwd)/"}
stamp=$here/lib/.pom.sha256
want=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "maven_fetch: $name/lib is current"
  exit 0
fi
echo "maven_fetch: fetching $name/pom.xml's dependencies with Maven into $name/lib"
rm -rf "$here/lib.new"
mvn -q -B -f "$here/pom.xml" -Dmaven.repo.local="${MAVEN_REPO:-$HOME/.m2/repository}" \
  --strict-checksums org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$here/lib.new"
rm -rf "$here/lib"
mv "$here/lib.new" "$here/lib"
echo "$want" >"$stamp"
echo "maven_fetch: $name/lib holds $(ls "$here/lib" | wc -l) jars"
