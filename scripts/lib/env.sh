# Shared helpers of the project's scripts: pick a JDK >= 21 and check Node.
# Source it; it exports JAVA_HOME and PATH, or exits with a clear message.

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROOT_DIR

java_major() { # $1 = a java executable; prints its major version
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

pick_jdk() {
  local candidate major
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge 21 ]; then return 0; fi
  fi
  for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate="${candidate%/}"
    [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge 21 ]; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "error: no JDK 21 or newer found (JAVA_HOME='${JAVA_HOME:-}', /usr/lib/jvm has none); install one, e.g. Temurin 21+" >&2
  exit 1
}

check_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: Node.js 20+ and npm are needed for the Hardhat project in contracts/" >&2
    exit 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "error: Node.js 20+ is needed, found $(node --version)" >&2
    exit 1
  fi
}

pick_jdk
check_node
export PATH="$JAVA_HOME/bin:$PATH"
