"""`from awsglue.transforms import *`: the transforms a Studio script calls as `X.apply(...)`.

ApplyMapping, DropFields, Filter, Join, RenameField and SelectFields run (each the DynamicFrame
method of the same meaning); every other name Glue exports is here too, so the import works, and
raises one sentence naming what runs locally when it is applied.
"""

from __future__ import annotations

from stedi.studio.frames import not_supported


class GlueTransform:
    """A Glue transform: `Transform.apply(**kwargs)` is `Transform()(**kwargs)`."""

    @classmethod
    def apply(cls, *args, **kwargs):
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    def __call__(self, *args, **kwargs):
        raise not_supported(f"awsglue.transforms.{type(self).__name__}")


class ApplyMapping(GlueTransform):
    def __call__(self, frame, mappings, case_sensitive=False, transformation_ctx="", info="", stageThreshold=0,  # noqa: N803
                 totalThreshold=0):  # noqa: N803
        return frame.apply_mapping(mappings, case_sensitive, transformation_ctx)


class DropFields(GlueTransform):
    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):  # noqa: N803
        return frame.drop_fields(paths, transformation_ctx)


class SelectFields(GlueTransform):
    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):  # noqa: N803
        return frame.select_fields(paths, transformation_ctx)


class RenameField(GlueTransform):
    def __call__(self, frame, old_name, new_name, transformation_ctx="", info="", stageThreshold=0,  # noqa: N803
                 totalThreshold=0):  # noqa: N803
        return frame.rename_field(old_name, new_name, transformation_ctx)


class Filter(GlueTransform):
    def __call__(self, frame, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):  # noqa: N803
        return frame.filter(f, transformation_ctx)


class Join(GlueTransform):
    def __call__(self, frame1, frame2, keys1, keys2, transformation_ctx=""):
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


def _unsupported(name: str) -> type:
    return type(name, (GlueTransform,), {"__doc__": f"Glue's {name}: not run locally (raises when applied)."})


UNSUPPORTED = ("Coalesce", "DropNullFields", "ErrorsAsDynamicFrame", "FlatMap", "Map", "MapToCollection",
               "Relationalize", "Repartition", "ResolveChoice", "SelectFromCollection", "Spigot", "SplitFields",
               "SplitRows", "Unbox", "UnnestFrame", "Union")
for _name in UNSUPPORTED:
    globals()[_name] = _unsupported(_name)

SUPPORTED = ("ApplyMapping", "DropFields", "Filter", "Join", "RenameField", "SelectFields")
__all__ = sorted([*SUPPORTED, *UNSUPPORTED])
