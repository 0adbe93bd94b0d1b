"""awsglue.utils: getResolvedOptions, as stedi/studio/arguments.py implements it."""

from stedi.studio.arguments import GlueArgumentError, resolve


def getResolvedOptions(args, options, allow_abbrev=False):  # noqa: N802 - Glue's name
    return resolve(list(args), list(options), allow_abbrev)


__all__ = ["GlueArgumentError", "getResolvedOptions"]
