import subprocess
import sys

import pytest
import sqlalchemy as sa

from groundfog.core.errors import ValidationError
from groundfog.core.state import Migration, StateStore, create_tables, metadata, register_migrations

widgets = sa.Table(
    "test_widgets",
    sa.MetaData(),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
)


def _add_colour(op):
    op.add_column("test_widgets", sa.Column("colour", sa.String(16), nullable=True))


register_migrations(
    Migration("test", "0001_widgets", create_tables(widgets)),
    Migration("test", "0002_colour", _add_colour),
)


def test_migrations_apply_once_and_in_order(state_url):
    store = StateStore(state_url)
    applied = store.migrate()
    assert applied.index("test/0001_widgets") < applied.index("test/0002_colour")
    assert store.migrate() == []
    with store.write() as conn:
        conn.execute(sa.text("INSERT INTO test_widgets (name, size, colour) VALUES ('a', 1, 'red')"))
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT colour FROM test_widgets")).scalar_one() == "red"
    store.dispose()


def test_a_failed_write_changes_nothing(state_url):
    store = StateStore(state_url)
    store.migrate()
    with pytest.raises(RuntimeError):
        with store.write() as conn:
            conn.execute(sa.text("INSERT INTO test_widgets (name, size) VALUES ('b', 2)"))
            raise RuntimeError("boom")
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM test_widgets")).scalar_one() == 0
    store.dispose()


def test_two_processes_migrating_together_do_not_collide(state_url):
    code = (
        "import sys; sys.path.insert(0, %r);"
        "import test_state; from groundfog.core.state import StateStore;"
        "StateStore(%r).migrate()"
    ) % (str(__import__('pathlib').Path(__file__).parent), state_url)
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    # Whatever else this process has registered may still be pending; ours is not.
    assert not [m for m in StateStore(state_url).migrate() if m.startswith("test/")]


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_state_urls_are_refused(url):
    with pytest.raises(ValidationError, match="(?i)state"):
        StateStore(url)


def test_shared_metadata_holds_the_migrations_table():
    assert "groundfog_migrations" in metadata.tables
