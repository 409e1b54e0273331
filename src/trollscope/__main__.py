"""``python -m trollscope`` runs the command line; so does ``spark-submit …/trollscope/__main__.py``
(hence the absolute import: spark-submit runs this file as a script, outside its package)."""

from trollscope.cli import main

main()
