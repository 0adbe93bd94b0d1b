"""awsglue.transforms, as stedi/studio/transforms.py implements it (`import *` gives Glue's names)."""

from stedi.studio.transforms import *  # noqa: F403
from stedi.studio.transforms import GlueTransform, __all__  # noqa: F401
