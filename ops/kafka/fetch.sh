#!/usr/bin/env bash
# Fetches the pinned Apache Kafka broker (pom.xml) with Maven into ops/kafka/lib.
exec bash "$(dirname "$0")/../maven_fetch.sh" "$(dirname "$0")"
