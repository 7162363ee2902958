"""The command line; the root app is in ``groundfog.cli.main``, services' commands in
each service's ``cli`` module (which import ``groundfog.cli.common`` only)."""


def main() -> None:
    from groundfog.cli.main import main as run

    run()
