"""`python -m munibond` runs the command line."""

from munibond.cli import main

main()
