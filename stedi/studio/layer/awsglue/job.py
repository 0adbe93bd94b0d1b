"""awsglue.job, as stedi/studio/job.py implements it."""

from stedi.studio.job import Job

__all__ = ["Job"]
