"""STEDI lakehouse: a local lakehouse emulator for the STEDI pipeline, promotable to AWS Glue."""
