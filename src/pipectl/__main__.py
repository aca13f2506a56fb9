"""`python -m pipectl` runs the same command line as the `pipectl` script."""

from pipectl.cli.app import main

main()
