"""`python -m satchel` runs the CLI (what tests and scripts use when the console script is not on PATH)."""

from satchel.cli import main

main()
