"""stedi's local `awsglue` (see ../README.md): `from awsglue import DynamicFrame` works as on Glue."""

from awsglue.dynamicframe import DynamicFrame

STEDI_LAYER = True  # this is not AWS's package: stedi/script.py tells them apart by it
__all__ = ["DynamicFrame"]
