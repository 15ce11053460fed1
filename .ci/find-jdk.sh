# Sourced by .ci/run (and usable by hand: `. .ci/find-jdk.sh`): sets JAVA_HOME to a JDK 21 or newer.
# Looks at $JAVA_HOME, the java on PATH, then /usr/lib/jvm/* and /opt/java/*, and takes the newest.
# Fails with a clear message when there is none.

sagebus_java_major() {
  # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

sagebus_find_jdk() {
  local best_home="" best_major=0 home major candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for home in /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -d "$home" ] && candidates+=("$home")
  done
  for home in "${candidates[@]}"; do
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || continue
    major=$(sagebus_java_major "$home/bin/java")
    [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best_major=$major
      best_home=$home
    fi
  done
  if [ -z "$best_home" ]; then
    echo "Sagebus needs a JDK 21 or newer (with javac); none was found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
    echo "Install one (e.g. 'apt-get install openjdk-21-jdk-headless' or Temurin 21+) and set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME="$best_home"
  export PATH="$JAVA_HOME/bin:$PATH"
  echo "Using JDK $best_major at $JAVA_HOME"
}

sagebus_find_jdk
