/// The Python side of a `SparkSession`: starts Spark (or connects to a Spark Connect
/// server) once, then runs one job per line of its input — a query whose rows it
/// writes as Parquet — and answers one JSON line per job. Spark's own output
/// goes to stderr (the session's log); stdout carries only the answers.
enum SparkDriverScript {
    static let source = #"""
        import json, sys

        def main():
            settings = json.loads(sys.argv[1])
            answers = sys.stdout
            sys.stdout = sys.stderr
            from pyspark.sql import SparkSession
            builder = SparkSession.builder.appName("tessera")
            if settings.get("connect"):
                builder = builder.remote(settings["connect"])
            else:
                builder = builder.master(settings.get("master") or "local[2]")
                builder = builder.config("spark.ui.enabled", "false")
            for key, value in sorted((settings.get("conf") or {}).items()):
                builder = builder.config(key, value)
            spark = builder.getOrCreate()
            # Tessera's times are instants: compare and write them in UTC, as microseconds.
            spark.conf.set("spark.sql.session.timeZone", "UTC")
            spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            if not settings.get("connect"):
                spark.sparkContext.setLogLevel("ERROR")
            answers.write(json.dumps({"ready": spark.version}) + "\n")
            answers.flush()
            for line in sys.stdin:
                job = json.loads(line)
                try:
                    spark.sql(job["query"]).write.mode("overwrite").parquet(job["output"])
                    answer = {"ok": True}
                except Exception as error:
                    text = str(error).strip()
                    lines = [l for l in text.splitlines() if not l.strip().startswith("at ")]
                    answer = {"ok": False, "error": "\n".join(lines[:30])}
                answers.write(json.dumps(answer) + "\n")
                answers.flush()
            spark.stop()

        main()
        """#
}
