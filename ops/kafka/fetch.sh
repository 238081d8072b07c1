#!/usr/bin/env bash
# Fetches the pinned Apache Kafka broker (pom.xml) with Maven into ops/kafka/lib.
# Idempotent: does nothing when lib/ already holds the jars of this pom.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stamp=$here/lib/.pom.sha256
want=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "ops/kafka/fetch.sh: Kafka already in ops/kafka/lib"
  exit 0
fi
echo "ops/kafka/fetch.sh: fetching Kafka with Maven into ops/kafka/lib"
rm -rf "$here/lib.new"
mvn -q -B -f "$here/pom.xml" -Dmaven.repo.local="${MAVEN_REPO:-$HOME/.m2/repository}" \
  --strict-checksums org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$here/lib.new"
rm -rf "$here/lib"
mv "$here/lib.new" "$here/lib"
echo "$want" >"$stamp"
echo "ops/kafka/fetch.sh: $(ls "$here/lib" | wc -l) jars"
