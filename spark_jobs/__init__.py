"""The five STEDI Glue jobs. Each module is a runnable script (spark-submit or AWS Glue)
whose only logic is its `transform`."""
