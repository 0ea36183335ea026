#!/usr/bin/env bash
# PySpark (the `spark` extra, used by the attribution tests) needs a Java runtime >= 17.
# Install Debian's headless OpenJDK when none is on the machine; do nothing otherwise.
set -euo pipefail
if command -v java >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-java: no 'java' on PATH and not root; install a Java 17+ runtime (e.g. openjdk-17-jre-headless)" >&2
  exit 1
fi
echo "ensure-java: installing openjdk-17-jre-headless for PySpark" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq openjdk-17-jre-headless >/dev/null
java -version
