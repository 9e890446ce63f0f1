# Shared by the scripts in jobs/: build once, then run from target/classes with Maven's classpath.
llic_build_if_needed() {
  local stamp="$LLIC_HOME/target/runtime-classpath.txt"
  if [ ! -f "$stamp" ] || [ -n "$(find "$LLIC_HOME/src/main" "$LLIC_HOME/pom.xml" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    command -v mvn >/dev/null || { echo "llic: Maven (mvn) is needed to build llic; install it (apt-get install maven)" >&2; exit 2; }
    echo "llic: building (first use or sources changed)..." >&2
    (cd "$LLIC_HOME" && mvn -B -q -DskipTests package >&2) || { echo "llic: build failed" >&2; exit 2; }
  fi
}
llic_classpath() {
  echo "$LLIC_HOME/target/classes:$(cat "$LLIC_HOME/target/runtime-classpath.txt")"
}
