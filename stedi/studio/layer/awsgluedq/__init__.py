"""stedi's local `awsgluedq` (see ../README.md)."""
