# Shared by the scripts in jobs/: build once, then run with Maven's resolved classpath.
LLIC_ADD_OPENS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"

# glibc malloc and PyTorch on the CPU: every training step and every large network call allocates
# tensors of tens of MB. By default glibc serves them with fresh mmap pages (and task threads from
# per-thread arenas of at most 64 MB, so larger blocks are mmap'ed too) and returns them at free, so
# the kernel faults in and zeroes every page again each call: measured here, one training shard ran at
# 30 crops/s with the defaults and at 138 with these settings (4.6x; most of the CPU time was the
# kernel's). One arena with high mmap/trim thresholds keeps the memory for reuse. Set by the scripts
# for the local JVM; cluster profiles pass the same through spark.executorEnv.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-4294967296}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-68719476736}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"

llic_build_if_needed() {
  # built = the jar and the classpath file exist and no source is newer than the jar
  local jar; jar="$(ls "$LLIC_HOME"/target/llic-*.jar 2>/dev/null | grep -v -E 'sources|tests' | head -1 || true)"
  if [ -z "$jar" ] || [ ! -f "$LLIC_HOME/target/runtime-classpath.txt" ] \
     || [ -n "$(find "$LLIC_HOME/src/main" "$LLIC_HOME/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
    command -v mvn >/dev/null || { echo "llic: Maven (mvn) is needed to build llic; install it (apt-get install maven)" >&2; exit 2; }
    echo "llic: building (first use or sources changed)..." >&2
    (cd "$LLIC_HOME" && mvn -B -q -DskipTests package >&2) || { echo "llic: build failed" >&2; exit 2; }
    jar="$(ls "$LLIC_HOME"/target/llic-*.jar | grep -v -E 'sources|tests' | head -1 || true)"
    touch "$jar"
  fi
}

llic_app_jar() {
  ls "$LLIC_HOME"/target/llic-*.jar 2>/dev/null | grep -v -E 'sources|tests' | head -1 || true
}

llic_classpath() {
  echo "$LLIC_HOME/target/classes:$(cat "$LLIC_HOME/target/runtime-classpath.txt")"
}

# llic_spark_submit CLASS ARGS...: Spark's own options (--conf, --properties-file, --master, ...) go to
# spark-submit, the rest to the job. With SPARK_HOME set: $SPARK_HOME/bin/spark-submit; without it the
# same class runs through org.apache.spark.deploy.SparkSubmit on local[*] with the jars Maven resolved.
# llic_profile_confs NAME[,NAME...]: prints the settings of conf/NAME.properties (or of a file path),
# one key=value per line, comments and blank lines left out; exits 2 on an unknown profile.
llic_profile_confs() {
  local name file
  for name in ${1//,/ }; do
    if [ -f "$LLIC_HOME/conf/$name.properties" ]; then file="$LLIC_HOME/conf/$name.properties"
    elif [ -f "$name" ]; then file="$name"
    else
      echo "llic: unknown profile '$name' (profiles: $(cd "$LLIC_HOME/conf" && ls *.properties | sed 's/\.properties$//' | grep -v log4j2 | paste -sd' '), or a file)" >&2
      exit 2
    fi
    grep -v -E '^[[:space:]]*(#|!|$)' "$file" | grep '=' || true
  done
}

llic_spark_submit() {
  local class="$1"; shift
  local spark_opts=() job_opts=() has_master=0 has_props=0 profiles="" uses_s3=0 uses_gpu=0 user_jars="" user_files=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --jars)
        # merged with the jars the script ships (one --jars would replace the other)
        [ $# -ge 2 ] || { echo "${class##*.}: option $1 needs a value" >&2; exit 2; }
        user_jars="${user_jars:+$user_jars,}$2"; shift 2 ;;
      --jars=*)
        user_jars="${user_jars:+$user_jars,}${1#--jars=}"; shift ;;
      --files)
        [ $# -ge 2 ] || { echo "${class##*.}: option $1 needs a value" >&2; exit 2; }
        user_files="${user_files:+$user_files,}$2"; shift 2 ;;
      --files=*)
        user_files="${user_files:+$user_files,}${1#--files=}"; shift ;;
      --profile)
        [ $# -ge 2 ] || { echo "${class##*.}: option $1 needs a value" >&2; exit 2; }
        profiles="${profiles:+$profiles,}$2"; shift 2 ;;
      --profile=*)
        profiles="${profiles:+$profiles,}${1#--profile=}"; shift ;;
      --conf|--properties-file|--master|--deploy-mode|--driver-memory|--executor-memory|--executor-cores|--num-executors|--total-executor-cores)
        [ $# -ge 2 ] || { echo "${class##*.}: option $1 needs a value" >&2; exit 2; }
        [ "$1" = --master ] && has_master=1
        [ "$1" = --properties-file ] && has_props=1
        spark_opts+=("$1" "$2"); shift 2 ;;
      --conf=*|--master=*|--properties-file=*)
        case "$1" in --master=*) has_master=1 ;; --properties-file=*) has_props=1 ;; esac
        spark_opts+=("$1"); shift ;;
      *) case "$1" in *s3a://*) uses_s3=1 ;; esac
         job_opts+=("$1"); shift ;;
    esac
  done
  # a profile's settings go first as --conf, so the user's own --conf still wins; unlike a second
  # --properties-file this keeps the cluster's spark-defaults.conf (or conf/local.properties)
  local profile_opts=() line
  if [ -n "$profiles" ]; then
    local confs; confs="$(llic_profile_confs "$profiles")" || exit 2
    while IFS= read -r line; do
      [ -n "$line" ] && profile_opts+=(--conf "$line")
    done <<< "$confs"
    case ",$profiles," in *,s3a,*) uses_s3=1 ;; esac
    case ",$profiles," in *,gpu,*) uses_gpu=1 ;; esac
  fi
  # event logs to a local directory (cluster and gpu profiles keep them): Spark refuses to start
  # when the directory is missing
  local conf_line prev=""
  for conf_line in "${profile_opts[@]}" "${spark_opts[@]}"; do
    if [ "$prev" = --properties-file ] && [ -f "$conf_line" ]; then
      conf_line="$(grep -E '^spark\.eventLog\.dir=file:' "$conf_line" | tail -1 || true)"
    fi
    prev="$conf_line"
    case "$conf_line" in spark.eventLog.dir=file:*) mkdir -p "${conf_line#spark.eventLog.dir=file:}" 2>/dev/null || true ;; esac
  done
  spark_opts=("${profile_opts[@]}" "${spark_opts[@]}")
  local app; app="$(llic_app_jar)"
  local java_props="-Dllic.home=$LLIC_HOME -Dai.djl.offline=true -Dlog4j2.configurationFile=$LLIC_HOME/conf/log4j2.properties"
  if [ -n "${SPARK_HOME:-}" ]; then
    # the cluster provides Spark and Hadoop; ship the rest (DJL, PyTorch natives) with the job, and the
    # S3 connector (hadoop-aws, spark-hadoop-cloud, the 558 MB AWS SDK bundle) only for a run on s3a://
    local s3_jars='/org/apache/hadoop/hadoop-aws/|/org/apache/spark/spark-hadoop-cloud|/software/amazon/awssdk/'
    # a gpu run loads CUDA libtorch on the executors (PYTORCH_LIBRARY_PATH / PYTORCH_FLAVOR in the gpu
    # profile): the CPU native jar is left out, or DJL would load it instead
    local cpu_native='/ai/djl/pytorch/pytorch-native-cpu/'
    [ $uses_gpu = 1 ] || cpu_native='^$'
    local extra; extra="$(tr ':' '\n' < "$LLIC_HOME/target/runtime-classpath.txt" | grep -v -E "$s3_jars" | grep -v -E '/org/apache/(spark|hadoop)/|/org/scala-lang/' | grep -v -E "$cpu_native" || true)"
    if [ $uses_s3 = 1 ]; then
      extra="$extra"$'\n'"$(tr ':' '\n' < "$LLIC_HOME/target/runtime-classpath.txt" | grep -E "$s3_jars" || true)"
    fi
    extra="$(printf '%s\n' "$extra" | grep -v '^$' | paste -sd, -)"
    extra="$extra${user_jars:+,$user_jars}"
    local files="$user_files" executor_props=()
    if [ $uses_gpu = 1 ]; then
      # the GPU discovery script, localised next to each executor (YARN) as the gpu profile expects
      files="$LLIC_HOME/conf/gpu/getGpusResources.sh${files:+,$files}"
    else
      # CPU executors never download anything (a gpu run's profile decides for itself)
      executor_props=(--conf "spark.executor.extraJavaOptions=-Dai.djl.offline=true")
    fi
    [ -z "$files" ] || spark_opts+=(--files "$files")
    exec "$SPARK_HOME/bin/spark-submit" --class "$class" --jars "$extra" \
      --driver-java-options "$java_props" "${executor_props[@]}" \
      "${spark_opts[@]}" "$app" "${job_opts[@]}"
  fi
  export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
  [ $has_master = 1 ] || spark_opts=(--master 'local[*]' "${spark_opts[@]}")
  [ $has_props = 1 ] || spark_opts=(--properties-file "$LLIC_HOME/conf/local.properties" "${spark_opts[@]}")
  [ -z "$user_jars" ] || spark_opts+=(--jars "$user_jars")
  [ -z "$user_files" ] || spark_opts+=(--files "$user_files")
  # shellcheck disable=SC2086
  exec java ${LLIC_JAVA_OPTS:--Xmx8g} $LLIC_ADD_OPENS $java_props \
    -cp "$app:$(cat "$LLIC_HOME/target/runtime-classpath.txt")" org.apache.spark.deploy.SparkSubmit \
    --class "$class" "${spark_opts[@]}" "$app" "${job_opts[@]}"
}
