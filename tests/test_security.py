"""What a hostile or broken link, or a failing API, cannot do to the dashboard.

Pure functions of ``c4w.ui`` first, then the app through AppTest in live mode against the
sandbox: contact ids that are dot segments, error pages that keep the sidebar and a way to try
again.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from c4w import export, schema, ui

TODAY = dt.date(2024, 6, 15)
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")


# --- 10: the loc parameter ------------------------------------------------------------------------
def test_comma_separated_location_ids_count_towards_the_cap() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    one_value = ",".join(f"loc-{i}" for i in range(40_000))  # 40,000 ids in one `loc` value
    filters, notes = ui.parse_url_filters({"loc": [one_value]}, TODAY)
    assert filters.location_ids == tuple(f"loc-{i}" for i in range(cap))
    assert notes == [f"The link names more than {cap} locations; only the first {cap} are used."]


def test_the_cap_counts_ids_over_repeated_and_comma_separated_values() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    # 300 values of 2 ids each: 600 ids, of which the first `cap` are kept
    values = [f"a{i},b{i}" for i in range(300)]
    filters, notes = ui.parse_url_filters({"loc": values}, TODAY)
    expected = [x for i in range(300) for x in (f"a{i}", f"b{i}")][:cap]
    assert list(filters.location_ids) == expected and len(notes) == 1


def test_repeated_ids_are_kept_once_in_their_first_order() -> None:
    filters, notes = ui.parse_url_filters({"loc": ["b,a", "b", " a ,c", "c,,"]}, TODAY)
    assert filters.location_ids == ("b", "a", "c")
    assert notes == []
    # exactly the cap is not "more than" it
    exactly = ",".join(str(i) for i in range(ui.MAX_LOCATIONS_IN_LINK))
    filters, notes = ui.parse_url_filters({"loc": [exactly, "0,1"]}, TODAY)
    assert len(filters.location_ids) == ui.MAX_LOCATIONS_IN_LINK and notes == []


# --- the app in live mode -------------------------------------------------------------------------
@pytest.fixture
def live(sandbox_factory, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A sandbox over the small test organization, the app pointed at it."""
    box = sandbox_factory()
    monkeypatch.setenv("C4W_DEMO_EVENTS", "2000")
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)
    yield box


def run_app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


# --- 6: contact ids that are dot segments ---------------------------------------------------------
# what a browser's address gives the page for ?contact=.., ., %2e%2e, %20..%20 and %00..
@pytest.mark.parametrize("contact_id", ["..", ".", " .. ", "\x00..", ".\x00."])
def test_dot_segment_contact_ids_get_the_bad_id_message(live, contact_id: str) -> None:
    at = run_app("contact", contact=contact_id)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found for that contact id" in i.value for i in at.info)
    assert all(entry["endpoint"] != "contact" for entry in live.requests)  # nothing was asked


def test_a_literal_percent_encoded_dot_id_is_sent_as_data(live) -> None:
    at = run_app("contact", contact="%2e%2e")
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found" in i.value for i in at.info)
    assert [e["contact_id"] for e in live.requests if e["endpoint"] == "contact"] == ["%2e%2e"]


# --- 7: error pages keep the sidebar and a way to try again ---------------------------------------
@pytest.mark.parametrize("endpoint", ["events", "locations"])
def test_an_error_page_keeps_the_sidebar_and_offers_to_try_again(live, endpoint: str) -> None:
    live.add_fault(410, endpoint=endpoint, times=1)  # refused once, then answered
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "revoked" not in at.error[0].value  # the short message only
    assert at.button(key="error_refresh").label == "Try again"
    assert at.sidebar.button(key="error_refresh_side").label == "Refresh data"
    if endpoint == "events":  # the filters were drawn before the events were asked for
        assert at.sidebar.selectbox(key="flt_range").value == "30d"
    at.button(key="error_refresh").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.metric) >= 6  # the Overview, now that the API answers


# --- 4: Markdown from event data is shown as typed ------------------------------------------------
MARKDOWN = "![px](http://127.0.0.1:8729/p.png) [Sign in again](http://phish.invalid/x)"


def test_escaped_markdown_keeps_every_character_behind_a_backslash() -> None:
    # every ASCII punctuation character is escaped; letters, digits and spaces are not
    assert export.escape_markdown("![a](b) $x$") == r"\!\[a\]\(b\) \$x\$"
    assert export.escape_markdown("<!-- c -->") == r"\<\!\-\- c \-\-\>"
    assert export.escape_markdown(":red[x] **b** _i_ `c`") == r"\:red\[x\] \*\*b\*\* \_i\_ \`c\`"
    assert export.escape_markdown("# title\n- item\r\n1. x") == r"\# title \- item 1\. x"
    assert export.escape_markdown("Café 5 à 7") == "Café 5 à 7"
    assert export.escape_markdown(None) == "" and export.escape_markdown(pd.NA) == ""


def test_unescaping_gives_back_the_text() -> None:
    import re

    for text in (MARKDOWN, "<!-- hidden -->", "$$\\sum_i x_i$$", "a\\b", "=1+2"):
        escaped = export.escape_markdown(text).replace(export.WORD_JOINER, "")
        assert re.sub(r"\\(.)", r"\1", escaped) == text  # CommonMark's reading of the escapes


def test_bare_addresses_are_kept_from_becoming_links() -> None:
    # GitHub-flavoured Markdown links "http://", "www." and "name@domain" even when escaped
    joiner = export.WORD_JOINER
    assert export.escape_markdown("http://a") == f"http{joiner}\\:\\/\\/a"
    assert export.escape_markdown("WWW.a.b") == f"WWW{joiner}\\.a\\.b"
    assert export.escape_markdown("x@y.z") == f"x{joiner}\\@y\\.z"


# --- 5: personal data inside free text -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call me: +39 333 123 4567", "call me: ***4567"),
        ("mail john.doe@example.com please", "mail j***@example.com please"),
        ("answer_1: (555) 123-4567; answer_2: 4", "answer_1: ***4567; answer_2: 4"),
        ("answer_1: 333.123.4567", "answer_1: ***4567"),
        # left alone: dates and times, short numbers, ids with letters or dashes
        ("answer_1: 2024-05-01 09:30:00", "answer_1: 2024-05-01 09:30:00"),
        ("code 123456, id c-12345678, ev-2-000012", "code 123456, id c-12345678, ev-2-000012"),
    ],
)
def test_emails_and_phones_inside_free_text_are_masked(text: str, masked: str) -> None:
    assert export.mask_free_text(text) == masked


def test_survey_answers_are_masked_on_screen_and_in_csv_unless_revealed() -> None:
    answers = "answer_1: anna@example.com; answer_2: +44 20 7946 0958"
    df = pd.DataFrame(
        {
            schema.CONTACT_ID: ["c-1", "c-2"],
            schema.SURVEY_ANSWERS: pd.Series([answers, "answer_1: yes"], dtype="category"),
        }
    )
    masked = export.mask_personal(df)
    assert masked[schema.SURVEY_ANSWERS].tolist() == [
        "answer_1: a***@example.com; answer_2: ***0958",
        "answer_1: yes",
    ]
    assert df[schema.SURVEY_ANSWERS].tolist()[0] == answers  # the input is not changed
    hidden = export.csv_bytes(df).decode("utf-8-sig")
    assert "anna@example.com" not in hidden and "7946" not in hidden
    assert "a***@example.com" in hidden
    assert answers in export.csv_bytes(df, reveal_personal=True).decode("utf-8-sig")


def hostile_contact_source():
    """One contact whose signup source is Markdown and whose survey answer holds an email and a
    phone number, in the last days (so the default dates show them)."""
    from c4w.sandbox import source_from_events
    from tests.conftest import LOCATIONS, ORG_ID, nested_event

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signup = nested_event(
        "ev-md-1", schema.SIGNUP, "c-md", now - dt.timedelta(hours=5), LOCATIONS[0]
    )
    signup["event"]["signup"] = {"source": MARKDOWN}
    survey = nested_event(
        "ev-md-2", schema.SURVEY, "c-md", now - dt.timedelta(hours=4), LOCATIONS[0]
    )
    survey["event"]["survey"] = {
        "campaignId": "cmp-s",
        "campaignName": "Feedback",
        "answerId": "a1",
        "questions": {"question_1": "How can we reach you?"},
        "answers": {"answer_1": "anna@example.com or +39 333 123 4567"},
    }
    return source_from_events([signup, survey], ORG_ID, LOCATIONS)


def test_the_contact_page_escapes_and_masks_event_text(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(hostile_contact_source())
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)
    at = run_app("contact", contact="c-md")
    assert not at.exception, [e.value for e in at.exception]
    source = {m.label: m.value for m in at.metric}["Signup source"]
    assert source == export.escape_markdown(MARKDOWN)
    assert "](" not in source.replace("\\]\\(", "")  # no unescaped link or image syntax is left
    shown = " ".join(
        " ".join(t.value[schema.SURVEY_ANSWERS].dropna().astype(str))
        for t in at.dataframe
        if schema.SURVEY_ANSWERS in t.value.columns
    )
    assert "a***@example.com" in shown and "***4567" in shown
    assert "anna@example.com" not in shown and "333 123" not in shown
    at.sidebar.toggle(key="flt_reveal").set_value(True).run()
    shown = " ".join(
        " ".join(t.value[schema.SURVEY_ANSWERS].dropna().astype(str))
        for t in at.dataframe
        if schema.SURVEY_ANSWERS in t.value.columns
    )
    assert "anna@example.com or +39 333 123 4567" in shown


# --- 3, 13, 14: who can reach the dashboard, and what it asks of the outside world ---------------
def test_config_binds_this_computer_pins_hosts_and_sends_no_statistics() -> None:
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(ui.__file__).parent.parent / ".streamlit/config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["allowedHosts"] == ["localhost", "127.0.0.1"]
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True


@pytest.mark.parametrize(
    ("host", "signs_in", "allow_open", "refused"),
    [
        ("127.0.0.1", False, False, False),
        ("localhost", False, False, False),
        ("::1", False, False, False),
        ("0.0.0.0", False, False, True),  # every interface, no sign-in: refused
        ("192.168.1.20", False, False, True),
        ("", False, False, True),  # Streamlit's own default: every interface
        ("0.0.0.0", True, False, False),  # visitors sign in first
        ("0.0.0.0", False, True, False),  # open on purpose
    ],
)
def test_serving_beyond_this_computer_needs_sign_in_or_an_explicit_choice(
    host: str, signs_in: bool, allow_open: bool, refused: bool
) -> None:
    from c4w import launch

    problem = launch.exposure_problem(host, signs_in=signs_in, allow_open=allow_open)
    assert (problem is not None) == refused
    if refused:
        assert "[auth]" in problem and "--allow-open" in problem


@pytest.mark.parametrize(
    ("address", "signs_in", "signed_in", "allowed"),
    [
        ("127.0.0.1", False, False, True),  # this computer only
        ("0.0.0.0", False, False, False),  # open to the network: never revealed
        ("0.0.0.0", True, False, False),
        ("0.0.0.0", True, True, True),  # a signed-in visitor
        ("127.0.0.1", True, False, False),  # with [auth], signed-in visitors only, even locally
    ],
)
def test_the_reveal_switch_is_for_signed_in_visitors_or_this_computer(
    address: str, signs_in: bool, signed_in: bool, allowed: bool
) -> None:
    assert ui.reveal_allowed(address, signs_in, signed_in) is allowed


def test_the_launcher_refuses_every_interface_without_sign_in(tmp_path, monkeypatch, capsys):
    from c4w import launch

    monkeypatch.setattr(launch, "SECRETS", tmp_path / "secrets.toml")  # no [auth] section
    monkeypatch.setattr(launch.os, "execve", lambda *a: pytest.fail("the server was started"))
    assert launch.main(["--host", "0.0.0.0"]) == 2
    assert "Refusing to serve" in capsys.readouterr().err
    (tmp_path / "secrets.toml").write_text('[auth]\nclient_id = "x"\n')
    started: list[list[str]] = []
    monkeypatch.setattr(launch.os, "execve", lambda path, args, env: started.append(args))
    monkeypatch.setattr(launch.os, "chdir", lambda path: None)
    assert (
        launch.main(["--host", "0.0.0.0", "--port", "8600", "--allowed-host", "dash.example"]) == 0
    )
    command = started[0]
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    hosts = [command[i + 1] for i, a in enumerate(command) if a == "--server.allowedHosts"]
    assert hosts[:3] == ["localhost", "127.0.0.1", "::1"] and "dash.example" in hosts
    # the address to open is named, so Streamlit does not look up the external IP to print it
    assert command[command.index("--browser.serverAddress") + 1] == launch.socket.gethostname()
    assert "Open http://" in capsys.readouterr().out


def test_a_server_started_open_makes_no_request_to_the_outside_at_start_up() -> None:
    """Served on every interface (open on purpose), the server starts without any outbound
    request: Streamlit's external-IP lookup goes through a proxy that counts connections."""
    import os
    import socket
    import subprocess
    import sys
    import threading
    import time
    import urllib.request
    from pathlib import Path

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    proxied: list[bytes] = []

    def count() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            proxied.append(conn.recv(200))
            conn.close()

    threading.Thread(target=count, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(HTTP_PROXY=proxy, HTTPS_PROXY=proxy, http_proxy=proxy, https_proxy=proxy)
    env.update(C4W_DEMO_EVENTS="2000")
    for name in CREDENTIAL_VARS:
        env.pop(name, None)
    root = Path(ui.__file__).parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "c4w.launch", "--host", "0.0.0.0", "--port", str(port)]
        + ["--allow-open"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with direct.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not start")
        time.sleep(1.5)  # Streamlit prints its addresses (and would look one up) after start
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode("utf-8", "replace")
        listener.close()
    assert "Open http://" in output
    assert "External URL" not in output
    assert proxied == [], proxied


# --- 2: large CSVs are written in chunks and not kept after they are served ----------------------
def test_a_csv_written_in_chunks_is_the_same_file_with_one_header() -> None:
    df = pd.DataFrame(
        {
            "name": ["=cmd", "Ann", "Bob", "Cy", "Di"],
            schema.EMAIL: pd.Series(
                ["ann@x.it", None, "bob@y.com", "c@z.org", "d@w.net"], dtype="category"
            ),
            "n": [1, 2, 3, 4, 5],
        }
    )
    text = export.csv_bytes(df).decode("utf-8")
    by_twos = io.BytesIO()
    export.write_csv(df, by_twos, chunk_rows=2)  # chunks of rows 1-2, 3-4 and 5
    assert by_twos.getvalue().decode("utf-8") == text
    # by hand: BOM, one header, formula quoted, emails masked, the missing one empty
    assert text == (
        '\ufeff"name","email","n"\n'
        '"\'=cmd","a***@x.it",1\n'
        '"Ann",,2\n'
        '"Bob","b***@y.com",3\n'
        '"Cy","c***@z.org",4\n'
        '"Di","d***@w.net",5\n'
    )


def test_an_empty_frame_still_gets_its_header() -> None:
    df = pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")})
    assert export.csv_bytes(df).decode("utf-8") == '\ufeff"a","b"\n'


def test_the_csv_for_a_download_is_a_temporary_file_read_from_its_start() -> None:
    df = pd.DataFrame({"a": range(250_000)})
    file = export.csv_file(df)
    try:
        assert file.tell() == 0 and file.fileno() >= 0  # on disk, not a bytes buffer
        assert file.read() == export.csv_bytes(df)
    finally:
        file.close()


def test_generated_downloads_are_dropped_from_streamlit_memory(monkeypatch) -> None:
    import threading

    from streamlit import runtime

    calls: list[str] = []
    done = threading.Event()

    class Files:
        def remove_orphaned_files(self) -> None:
            calls.append("clean-up")
            if len(calls) == 2:
                done.set()

    class Runtime:
        media_file_mgr = Files()

    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: Runtime())
    ui._drop_served_later(0.01)
    assert done.wait(5)
    # Streamlit marks an unreferenced download on its first clean-up and deletes it on the next
    assert calls == ["clean-up", "clean-up"]
    assert ui.SERVED_DOWNLOAD_KEPT_S <= 120


def test_every_download_says_how_many_rows_it_holds(monkeypatch) -> None:
    import re

    monkeypatch.setenv("C4W_DEMO_EVENTS", "2000")
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    at = run_app()  # the Overview: headline numbers, events per day, every event
    labels = [button.proto.label for button in at.get("download_button")]
    assert len(labels) >= 3
    for label in labels:
        assert re.search(r"\b\d[\d,]* (rows?|events)\b", label), label
    headline = next(label for label in labels if label.startswith("Headline numbers"))
    assert headline.endswith(" rows") and "·" in headline
