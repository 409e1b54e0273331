"""``python -m trollscope`` runs the command line."""

from .cli import main

main()
