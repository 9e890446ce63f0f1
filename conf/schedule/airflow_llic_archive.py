"""llic archive-job from Airflow 2.x (2.4+ for `schedule=`; older releases call it `schedule_interval`).

Copy this file into the DAGs folder and adapt the constants below. It submits io.llic.spark.ArchiveJob
with SparkSubmitOperator (apache-airflow-providers-apache-spark) as jobs/archive-job does with
SPARK_HOME set: the llic jar as the application, plus the runtime jars Spark does not provide.

Requirements on the Airflow worker that runs the tasks:
- a built llic checkout at LLIC_HOME (`mvn -B -DskipTests package` makes target/llic-*.jar and
  target/runtime-classpath.txt; the jars it lists must exist there, i.e. in ~/.m2 of that checkout);
- `spark-submit` on the PATH or spark-home in the Spark connection (SPARK_CONN_ID), whose host is the
  master (yarn, spark://..., k8s://...). Use deploy mode client (the default): the driver then runs on
  the worker, reads the model directory there, and spark-submit exits with archive-job's own status.
  In YARN cluster mode spark-submit only reports that the application failed (status 1); the
  archive-job status is then in the driver's log.

Run id: every task instance of one DAG run passes the same --run-id, derived from Airflow's run_id
(letters, digits, '-' and '_' only), so a retried or cleared task is the same llic run: if that run
already committed, archive-job only finishes its run record. A new DAG run (scheduled or triggered)
is a new llic run.

Exit status of archive-job (the task fails on any but 0; the hook's error says "Error code is: N"):
  0  run done; images that failed to code are listed in the run record and the archive's errors
     table and do not fail the run
  1  run failed (nothing of it committed, or committed with the run record missing): the retry, with
     the same run id, completes it
  2  usage error: fix the arguments (retries cannot help)
  75 another run holds the archive's lease (_llic_lease in the archive directory), i.e. a run started
     elsewhere (cron, by hand, another DAG) is in progress: the retry after retry_delay tries later.
     max_active_runs=1 already keeps this DAG's own runs from overlapping.
"""
from __future__ import annotations

import glob
import os
import re
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.python import ShortCircuitOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

# --- adapt ------------------------------------------------------------------------------------------
LLIC_HOME = "/opt/llic"                        # the built checkout on the Airflow worker
SOURCE = "hdfs:///data/images/incoming"        # local path, hdfs:// or s3a://
ARCHIVE = "hdfs:///data/llic/archive"          # the Delta archive (local path, hdfs:// or s3a://)
MODEL = f"{LLIC_HOME}/models/default"          # pin a model directory (models/causal-4) to keep one model
SPARK_CONN_ID = "spark_default"
USES_S3 = SOURCE.startswith("s3a://") or ARCHIVE.startswith("s3a://")
RETAIN_HOURS = 168                             # VACUUM retention of the weekly maintenance
# ----------------------------------------------------------------------------------------------------

# conf/cluster.properties (executor sizing, glibc malloc for PyTorch) plus what jobs/lib.sh passes:
# the driver's Java options, and DJL offline on the executors.
SPARK_CONF = {
    "spark.executor.memory": "6g",
    "spark.executor.cores": "2",
    "spark.task.cpus": "1",
    "spark.sql.shuffle.partitions": "64",
    "spark.executorEnv.MALLOC_ARENA_MAX": "1",
    "spark.executorEnv.MALLOC_MMAP_THRESHOLD_": "4294967296",
    "spark.executorEnv.MALLOC_TRIM_THRESHOLD_": "68719476736",
    "spark.executorEnv.MALLOC_TOP_PAD_": "268435456",
    "spark.driver.extraJavaOptions": f"-Dllic.home={LLIC_HOME} -Dai.djl.offline=true "
                                     f"-Dlog4j2.configurationFile={LLIC_HOME}/conf/log4j2.properties",
    "spark.executor.extraJavaOptions": "-Dai.djl.offline=true",
}
if USES_S3:
    # conf/s3a.properties (credentials: the AWS SDK's default chain; never put keys here)
    SPARK_CONF.update({
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider,"
                                                        "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider",
        "spark.hadoop.fs.s3a.committer.name": "magic",
        "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
        "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a": "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
        "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
        "spark.sql.parquet.output.committer.class": "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
        "spark.hadoop.fs.s3a.downgrade.syncable.exceptions": "true",
    })


def llic_app_jar() -> str:
    """target/llic-*.jar (as jobs/lib.sh's llic_app_jar); evaluated on the worker when the task runs."""
    jars = [j for j in sorted(glob.glob(f"{LLIC_HOME}/target/llic-*.jar")) if not re.search(r"sources|tests", j)]
    if not jars:
        raise FileNotFoundError(f"no llic jar in {LLIC_HOME}/target: run mvn -B -DskipTests package there")
    return jars[0]


def llic_jars() -> str:
    """The runtime jars the cluster's Spark lacks (DJL, PyTorch natives, Delta, ...): jobs/lib.sh's filter,
    the S3 connector (hadoop-aws, spark-hadoop-cloud, AWS SDK bundle) only when a path is on s3a://."""
    with open(f"{LLIC_HOME}/target/runtime-classpath.txt", encoding="utf-8") as f:
        entries = [e for e in f.read().strip().split(os.pathsep) if e]
    s3 = re.compile(r"/org/apache/hadoop/hadoop-aws/|/org/apache/spark/spark-hadoop-cloud|/software/amazon/awssdk/")
    provided = re.compile(r"/org/apache/(spark|hadoop)/|/org/scala-lang/")
    keep = [e for e in entries if not s3.search(e) and not provided.search(e)]
    if USES_S3:
        keep += [e for e in entries if s3.search(e)]
    return ",".join(keep)


def llic_id(value: str) -> str:
    """An Airflow run_id (scheduled__2026-01-02T01:30:00+00:00) as an llic run id: letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", value).strip("-")


def _starts_on_sunday(data_interval_end, **_) -> bool:
    """Weekly gate: true for the run that starts on a Sunday (a run starts at the end of its interval)."""
    return data_interval_end.weekday() == 6


with DAG(
    dag_id="llic_archive",
    description="llic archive-job: code new images into the Delta archive; weekly OPTIMIZE + VACUUM",
    schedule="30 1 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,                 # no backlog of missed nights: the next run archives whatever is new
    max_active_runs=1,             # never two runs of this DAG at once
    default_args={
        "owner": "llic",
        "retries": 3,
        "retry_delay": timedelta(minutes=20),   # a 75 (lease held) is retried after this
    },
    user_defined_macros={"llic_app_jar": llic_app_jar, "llic_jars": llic_jars},
    user_defined_filters={"llic_id": llic_id},
    tags=["llic"],
) as dag:
    def llic_job(task_id, name, application_args):
        """archive-job through spark-submit: the llic jar, its runtime jars and the cluster settings."""
        return SparkSubmitOperator(
            task_id=task_id,
            conn_id=SPARK_CONN_ID,
            name=name,
            application="{{ llic_app_jar() }}",
            java_class="io.llic.spark.ArchiveJob",
            jars="{{ llic_jars() }}",
            conf=SPARK_CONF,
            application_args=application_args,
        )

    archive = llic_job("archive", "llic-archive", [
        "--source", SOURCE,
        "--archive", ARCHIVE,
        "--model", MODEL,
        "--run-id", "airflow-{{ run_id | llic_id }}",   # same for every try of this DAG run
    ])

    # Optional: maintenance after the archive run of each Sunday, so it never overlaps an archive run
    # of this DAG. Remove these two tasks to run maintenance elsewhere.
    weekly = ShortCircuitOperator(task_id="weekly_gate", python_callable=_starts_on_sunday)

    maintain = llic_job("maintain", "llic-archive-maintain",
                        ["--maintain", "--archive", ARCHIVE, "--retain-hours", str(RETAIN_HOURS)])

    archive >> weekly >> maintain
