"""awsglue.dynamicframe, as stedi/studio/frames.py implements it."""

from stedi.studio.context import DynamicFrameReader, DynamicFrameWriter
from stedi.studio.frames import DynamicFrame, DynamicFrameCollection

__all__ = ["DynamicFrame", "DynamicFrameCollection", "DynamicFrameReader", "DynamicFrameWriter"]
