"""`stedi glue run`: AWS Glue scripts, as Glue Studio writes them, run unchanged on the local stack.

runner.py starts the scripts' process (bootstrap.py) with the clean-room `awsglue`/`awsgluedq`
layer (layer/, re-exporting this package) on its path; session.py is what that process knows of
the run. The layer's parts: context.py (GlueContext, readers, writers, sinks), frames.py
(DynamicFrame), records.py (what a Filter function sees), readers.py and sinks.py (S3 and the
Data Catalog, as Glue reads and writes them), s3.py, transforms.py, arguments.py
(getResolvedOptions), job.py and bookmarks.py (Job, job bookmarks), dqdl.py and quality.py
(EvaluateDataQuality). workspace.py: the learner's buckets and what a script may touch.
"""
