"""The peer servers of the serving benchmark, in their own venv (``make bench-peers``
creates ``bench/.peers-venv`` with MLflow): never imported by the project's venv."""
