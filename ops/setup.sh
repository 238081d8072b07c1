#!/usr/bin/env bash
# Installs every Debian 12 package the build, the stack and the tests need.
# Idempotent and non-interactive; run as root (or with sudo).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -E bash "$0" "$@"
  fi
  echo "ops/setup.sh: must run as root (apt-get install); re-run as root or install sudo" >&2
  exit 1
fi

PACKAGES=(
  # build
  bazel-bootstrap g++ python3
  # libraries
  librdkafka-dev kcat libpistache-dev libprotobuf-dev protobuf-compiler
  libmysqlcppconn-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libcurl4-openssl-dev uuid-dev libssl-dev libboost-dev
  # access tokens (JWT) and password hashing (Argon2id)
  libjwt-dev libargon2-dev
  # servers used by the stack and the tests
  mariadb-server mariadb-client prometheus
  # tools used by tests and benchmarks
  curl procps iproute2 wrk nginx-light
  # libFuzzer and the sanitizers' runtimes (bazel build --config=fuzz, ops/fuzz.sh)
  clang-14 libclang-rt-14-dev
  # Apache Kafka's broker (from Maven Central, ops/kafka/fetch.sh) runs on Java 17
  openjdk-17-jre-headless maven
  # a real SMTP server for notification tests; venv for Schemathesis (PyPI)
  python3 python3-aiosmtpd python3-venv
  # the dashboard's browser test (Playwright drives Debian's chromium)
  chromium
  # container images: loaded and run by podman (runc runtime) in the image test
  podman runc
)

repo=$(cd "$(dirname "$0")/.." && pwd)
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)  # a real Eureka client (npm) for the registry tests

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "ops/setup.sh: all ${#PACKAGES[@]} packages already installed"
else
  echo "ops/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # mariadb-server's post-install cannot start the service in a container
  # ("policy-rc.d denied"); that is expected: the project starts its own server.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by package-lock.json (the npm registry is reachable; nothing
# is fetched at run time).
if [ ! -d "$repo/testing/eureka_client/node_modules/eureka-js-client" ]; then
  echo "ops/setup.sh: npm ci in testing/eureka_client"
  npm ci --prefix "$repo/testing/eureka_client" --no-audit --no-fund --loglevel=error
fi
if [ ! -d "$repo/testing/browser/node_modules/playwright-core" ]; then
  echo "ops/setup.sh: npm ci in testing/browser"
  npm ci --prefix "$repo/testing/browser" --no-audit --no-fund --loglevel=error
fi
# Apache Kafka, the release pinned in ops/kafka/pom.xml, with Maven (checksums checked).
bash "$repo/ops/kafka/fetch.sh"
# Spring Boot, Spring Cloud's Eureka client and Spring Kafka (testing/spring/pom.xml),
# for the interop test (testing/e2e/spring_interop_test.cc).
bash "$repo/ops/maven_fetch.sh" "$repo/testing/spring"

# Schemathesis (PyPI), every package pinned by testing/schemathesis/requirements.txt,
# in a venv of Debian's Python (not pyenv's, which PATH may put first).
venv=$repo/testing/schemathesis/.venv
reqs=$repo/testing/schemathesis/requirements.txt
if ! cmp -s "$reqs" "$venv/installed-requirements.txt" 2>/dev/null; then
  echo "ops/setup.sh: Schemathesis into testing/schemathesis/.venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$reqs"
  cp "$reqs" "$venv/installed-requirements.txt"
fi
echo "ops/setup.sh: done"
