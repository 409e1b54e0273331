#!/usr/bin/env bash
# What the Spark tests need: Java 17 from Debian (PySpark itself comes from the test extra).
# Idempotent: does nothing where a Java 17 or newer is already on PATH or in JAVA_HOME.
set -euo pipefail
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if command -v "$java_bin" >/dev/null 2>&1; then
  major=$("$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  if [ "${major:-0}" -ge 17 ]; then exit 0; fi
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
