"""`python -m lamforge` is the `lamforge` command."""

from lamforge.cli import main

main()
