"""awsgluedq.transforms: EvaluateDataQuality, as stedi/studio/quality.py implements it."""

from stedi.studio.quality import EvaluateDataQuality

__all__ = ["EvaluateDataQuality"]
