"""awsglue.context, as stedi/studio/context.py implements it."""

from stedi.studio.context import DataSink, GlueContext

__all__ = ["DataSink", "GlueContext"]
