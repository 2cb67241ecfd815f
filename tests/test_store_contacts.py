"""The contacts table of the history store (c4w.store.contacts)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import contacts as ct
from c4w import schema
from c4w.store import EventStore
from c4w.store.contacts import contacts_path, read_contacts, write_contacts

ITEMS = [
    {
        "id": "c1",
        "firstName": "Émile",
        "lastName": "Zola",
        "email": "emile@example.com",
        "created": "2024-01-02T10:00:00Z",
        "policies": [{"name": "mktgCommunications", "accepted": True}],
    },
    {"id": "c2", "email": "x@example.org"},
]


def test_contacts_are_stored_beside_the_events_and_read_back_the_same(tmp_path) -> None:
    store = EventStore(tmp_path, "org-1")
    assert read_contacts(store).empty
    frame = ct.contacts_frame(ITEMS)
    path = write_contacts(store, frame)
    assert path == tmp_path / "org=org-1" / "_contacts" / "contacts.parquet"
    back = read_contacts(store)
    pd.testing.assert_frame_equal(back, frame)
    assert back.loc[0, ct.NAME] == "Émile Zola"
    # a new list replaces the old one entirely, and no temporary file is left behind
    write_contacts(store, ct.contacts_frame(ITEMS[1:]))
    assert read_contacts(store)[schema.CONTACT_ID].tolist() == ["c2"]
    assert [p.name for p in contacts_path(store).parent.iterdir()] == ["contacts.parquet"]


def test_contacts_kept_where_earlier_builds_put_them_are_read_and_moved_on_the_next_write(
    tmp_path,
) -> None:
    store = EventStore(tmp_path, "org-1")
    old = tmp_path / "org=org-1" / "contacts" / "contacts.parquet"
    old.parent.mkdir(parents=True)
    ct.contacts_frame(ITEMS).to_parquet(old, index=False)
    assert read_contacts(store)[schema.CONTACT_ID].tolist() == ["c1", "c2"]
    write_contacts(store, ct.contacts_frame(ITEMS[1:]))
    assert not old.exists()
    assert read_contacts(store)[schema.CONTACT_ID].tolist() == ["c2"]


def test_an_engine_scanning_the_store_sees_event_days_only(tmp_path) -> None:
    import pyarrow.dataset as ds

    from tests.frames import event, make_events

    store = EventStore(tmp_path, "org-1")
    with store.write_lock():
        store.write_day(
            dt.date(2024, 3, 5),
            make_events([event("login", "c1", "2024-03-05 09:00", event_id="e1")]),
            complete=True,
            api_count=1,
            fetched_at=dt.datetime(2024, 3, 7, tzinfo=dt.UTC),
        )
    write_contacts(store, ct.contacts_frame(ITEMS))
    table = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.column("event_id").to_pylist() == ["e1"]
    assert (
        ct.FIRST_NAME not in table.column_names and ct.MARKETING_CONSENT not in table.column_names
    )


def test_writing_contacts_leaves_the_event_days_alone(tmp_path) -> None:
    store = EventStore(tmp_path, "org-1")
    write_contacts(store, ct.contacts_frame(ITEMS))
    assert store.span() is None and store.day_states() == {}


def test_sync_puts_the_contacts_into_the_store(sandbox_factory, tmp_path, monkeypatch) -> None:
    from c4w.__main__ import main
    from c4w.sandbox import source_from_events
    from tests.conftest import ORG_ID, nested_events

    source = source_from_events(nested_events(10), ORG_ID)
    source.contacts = list(ITEMS)
    box = sandbox_factory(source)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    for name in ("C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID"):
        monkeypatch.delenv(name, raising=False)
    code = main(
        ["sync", "--org", ORG_ID, "--store", str(tmp_path), "--since", "2024-03-01"]
        + ["--until", "2024-03-02", "--quiet"]
    )
    assert code == 0
    stored = read_contacts(EventStore(tmp_path, ORG_ID))
    assert stored[schema.CONTACT_ID].tolist() == ["c1", "c2"]


def test_live_contacts_come_from_the_store_when_cloud4wi_cannot_be_asked(
    sandbox_factory, tmp_path, monkeypatch
) -> None:
    from c4w import data
    from c4w.errors import C4WError

    monkeypatch.setenv("C4W_STORE_DIR", str(tmp_path))
    box = sandbox_factory()
    box.add_fault(410, endpoint="contacts", times=None)  # access revoked: no retry helps
    source = data.Source("live", org_id=box.org_id, base_url=box.url, token=box.token)
    data._SOURCES[source.key] = source
    data.refresh()
    try:
        with pytest.raises(C4WError):  # nothing stored yet: the error shows
            data.load_contacts(source)
        write_contacts(EventStore(tmp_path, box.org_id), ct.contacts_frame(ITEMS))
        data.refresh()
        got = data.load_contacts(source)
        assert got[schema.CONTACT_ID].tolist() == ["c1", "c2"]
    finally:
        data.refresh()
