"""The Label Studio round trip against a real Label Studio 1.23 server on loopback.

The server runs from its own venv, built once per machine and cached
(tests/labelstudio_server.py); a proxy on loopback in front of it counts the requests and,
when told, answers 500 or drops the connection halfway through a pull. An annotator signs
up in Label Studio, annotates through its API (accepts predictions, changes a label, adds a
span, a relation and an encounter label), and the pull must bring back exactly that, once.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from label_studio_sdk import LabelStudio
from typer.testing import CliRunner

from pipelines.nlp import NLP_VERSION, NlpOptions, extract_entities, load_nlp
from pipelines.types import Annotation
from tests import labelstudio_server
from workbench import store as st
from workbench.cli import app
from workbench.labelstudio_client import LabelStudioError
from workbench.labelstudio_export import write_labelstudio_export
from workbench.labelstudio_sync import pull, push
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.events import list_events

from .conftest import make_transcript

pytestmark = pytest.mark.slow

TURNS = [
    ("clinician", "Good morning. Any chest pain or fever?"),
    ("patient", "No chest pain. I take metformin 500 mg twice a day for my diabetes."),
    ("clinician", "Keep taking the metformin and we will check your HbA1c."),
]
TEXT = TURNS[1][1]
PROJECT = "Scribe round trip"
ANNOTATOR = ("ann1@scribe.test", "ann-1")  # Label Studio email, our account with that email


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[labelstudio_server.Server]:
    venv, seconds = labelstudio_server.ensure_venv()
    print(f"\nLabel Studio venv: {venv} (built in {seconds:.0f} s)")
    root = tmp_path_factory.mktemp("labelstudio")
    running = labelstudio_server.start_server(venv, root / "data", root / "server.log")
    print(f"Label Studio up in {running.start_seconds:.1f} s at {running.url}")
    yield running
    running.stop()


class Proxy:
    """A loopback HTTP proxy in front of Label Studio: counts requests and, when
    ``fail`` is set, answers the first request it matches with 500 (``mode`` "500") or
    closes the connection without an answer (``mode`` "drop")."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.requests: list[str] = []
        self.fail: tuple[Callable[[str], bool], str] | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

            def _relay(self) -> None:
                proxy.requests.append(f"{self.command} {self.path}")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.fail and proxy.fail[0](self.path):
                    mode, proxy.fail = proxy.fail[1], None
                    if mode == "drop":
                        self.close_connection = True
                        return
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "22")
                    self.end_headers()
                    self.wfile.write(b'{"detail": "It broke"}')
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                payload = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                conn.close()

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(server: labelstudio_server.Server) -> Iterator[Proxy]:
    running = Proxy(server.url)
    yield running
    running.close()


@pytest.fixture(scope="module")
def annotator_token(server: labelstudio_server.Server) -> str:
    return labelstudio_server.add_user(server, ANNOTATOR[0], "Annotate-2026!")


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions())


@pytest.fixture
def seeded(tmp_path: Path, nlp) -> st.Store:
    """Three encounters with the real spaCy pipeline's entities; our annotator account
    carries the email the Label Studio annotator signs up with."""
    store = st.open_store(tmp_path / "data")
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    users.create_account(store, ANNOTATOR[1], "annotator", "system", email=ANNOTATOR[0])
    for encounter_id in ("enc-1", "enc-2", "enc-3"):
        st.add_encounter(store, st.EncounterRecord(encounter_id, "Visit", clinician_id="dr-a"),
                         "dr-a")  # fmt: skip
        transcript = make_transcript(TURNS)
        version = st.save_transcript(store, encounter_id, transcript, "dr-a")
        st.save_entities(store, encounter_id, version, extract_entities(nlp, transcript),
                         NLP_VERSION, "dr-a")  # fmt: skip
    return store


def _counts(store: st.Store) -> tuple:
    with store.connect() as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("annotation_tasks", "annotations", "annotation_imports",
                          "labelstudio_imports", "events")
        )  # fmt: skip


def _region(rid: str, word: str, label: str, seg: int = 1) -> dict:
    start = TURNS[seg][1].index(word)
    return {"id": rid, "from_name": "entities", "to_name": "transcript",
            "type": "paragraphlabels",
            "value": {"start": seg, "end": seg, "startOffset": start,
                      "endOffset": start + len(word), "text": word,
                      "paragraphlabels": [label]}}  # fmt: skip


def _per_region(rid: str, from_name: str, kind: str, value: dict, region: dict) -> dict:
    where = {k: region["value"][k] for k in ("start", "end", "startOffset", "endOffset")}
    return {"id": rid, "from_name": from_name, "to_name": "transcript", "type": kind,
            "value": {**where, **value}}  # fmt: skip


def _predicted_id(task, word: str, seg: int = 1) -> str:
    """The id of the prediction region on ``word`` (the model's stable suggestion id)."""
    [prediction] = task.predictions
    result = prediction["result"] if isinstance(prediction, dict) else prediction.result
    start = TURNS[seg][1].index(word)
    [rid] = [r["id"] for r in result if r["type"] == "paragraphlabels"
             and (r["value"]["start"], r["value"]["startOffset"]) == (seg, start)]  # fmt: skip
    return rid


def _span(rid: str, word: str, label: str, value: dict, origin: str = "human") -> Annotation:
    start = TEXT.index(word)
    return Annotation(rid, "span", label, 1, start, start + len(word), word, value, origin,
                      NLP_VERSION if origin == "confirmed" else None)  # fmt: skip


def _ls_tasks(client: LabelStudio, project_id: int) -> dict[str, object]:
    page = client.tasks.list(project=project_id, fields="all", page=1, page_size=100)
    return {t.data["encounter_id"]: t for t in page.items}


def test_push_annotate_pull_round_trip(
    server: labelstudio_server.Server, proxy: Proxy, annotator_token: str, seeded: st.Store
) -> None:
    store, url, token = seeded, proxy.url, server.token
    admin = LabelStudio(base_url=server.url, api_key=token)
    annotator = LabelStudio(base_url=server.url, api_key=annotator_token)

    # Push: a project with Scribe's config and three tasks with the model's predictions.
    pushed = push(store, url, token, PROJECT, ["enc-1", "enc-2", "enc-3"])
    assert (pushed.created, pushed.updated, pushed.unchanged) == (3, 0, 0)
    push_requests = len(proxy.requests)
    suggestions = an.model_suggestions(store, "enc-1")
    assert pushed.predictions == 3 * len(suggestions) > 0
    tasks = _ls_tasks(admin, pushed.ls_project_id)
    assert sorted(tasks) == ["enc-1", "enc-2", "enc-3"]
    # Pushing again changes nothing and duplicates nothing.
    again = push(store, url, token, PROJECT, ["enc-1", "enc-2", "enc-3"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert len(_ls_tasks(admin, pushed.ls_project_id)) == 3
    assert len(list_events(store, "enc-1", "labelstudio.pushed")) == 1

    # The annotator works in Label Studio: accepts two predictions (one with a context
    # flag, one with its dose and frequency plus a route they add), relabels a third,
    # drops the rest, adds a DOSE span, a has_dose relation and an encounter label.
    task = tasks["enc-1"]
    pain, med, sugar = (_predicted_id(task, w) for w in ("chest pain", "metformin", "diabetes"))
    pain_r, med_r = _region(pain, "chest pain", "PROBLEM"), _region(med, "metformin", "MEDICATION")
    result = [
        pain_r,
        _per_region(pain, "context", "choices", {"choices": ["negated"]}, pain_r),
        med_r,
        _per_region(med, "medication_dose", "textarea", {"text": ["500 mg"]}, med_r),
        _per_region(med, "medication_frequency", "textarea", {"text": ["twice a day"]}, med_r),
        _per_region(med, "medication_route", "textarea", {"text": ["by mouth"]}, med_r),
        _region(sugar, "diabetes", "TEST"),
        _region("ann-dose", "500 mg", "DOSE"),
        {"from_id": med, "to_id": "ann-dose", "type": "relation", "direction": "right",
         "labels": ["has_dose"]},
        {"id": "q1", "from_name": "encounter_audio_quality", "to_name": "transcript",
         "type": "choices", "value": {"choices": ["good"]}},
    ]  # fmt: skip
    made = annotator.annotations.create(id=task.id, result=result, was_cancelled=False)
    # The admin (no account here) labels enc-2; a skipped enc-3 is not an annotation.
    admin.annotations.create(id=tasks["enc-2"].id, result=[_region("a-1", "diabetes", "PROBLEM")])
    annotator.annotations.create(id=tasks["enc-3"].id, result=[], was_cancelled=True)

    before = len(proxy.requests)
    pulled = pull(store, url, token, PROJECT)
    pull_requests = len(proxy.requests) - before
    assert (pulled.tasks, pulled.annotations, pulled.imported) == (3, 2, 2)
    print(f"\nrequests: push {push_requests}, pull {pull_requests} (3 tasks)")

    # DuckDB: the annotator's submitted task holds exactly what they submitted.
    [mine] = an.list_tasks(store, assignee=ANNOTATOR[1])
    assert (mine.encounter_id, mine.status, mine.source) == ("enc-1", "submitted", "labelstudio")
    expected = [
        _span(pain, "chest pain", "PROBLEM", {"context": ["negated"], "attributes": {}},
              "confirmed"),
        _span(med, "metformin", "MEDICATION",
              {"context": [], "attributes": {"dose": "500 mg", "frequency": "twice a day",
                                             "route": "by mouth"}}, "confirmed"),
        _span(sugar, "diabetes", "TEST", {"context": [], "attributes": {}}),
        _span("ann-dose", "500 mg", "DOSE", {"context": [], "attributes": {}}),
        Annotation(f"relation:{med}:has_dose:ann-dose", "relation", "has_dose",
                   value={"from": med, "to": "ann-dose"}),
        Annotation("encounter:audio_quality", "encounter_label", "audio_quality",
                   value={"choice": "good"}),
    ]  # fmt: skip
    assert an.task_annotations(store, mine.task_id) == expected
    [theirs] = an.list_tasks(store, assignee=f"labelstudio:{server.email}")
    assert [a.label for a in an.task_annotations(store, theirs.task_id)] == ["PROBLEM"]
    [submitted] = list_events(store, "enc-1", "annotation.submitted")
    assert submitted.user_id == ANNOTATOR[1]
    [pulled_event] = list_events(store, kind="labelstudio.pulled")
    assert pulled_event.after["imported"] == 2 and "text" not in str(pulled_event.after)

    # Pulling again imports nothing and duplicates nothing.
    counts = _counts(store)
    assert pull(store, url, token, PROJECT).imported == 0
    assert _counts(store)[:4] == counts[:4]

    # An edit in Label Studio is a new version: imported once, into the same task.
    edited = [*result[:-1], {**result[-1], "value": {"choices": ["fair"]}}]
    annotator.annotations.update(id=made.id, result=edited)
    assert pull(store, url, token, PROJECT).imported == 1
    assert [t.task_id for t in an.list_tasks(store, assignee=ANNOTATOR[1])] == [mine.task_id]
    assert an.task_annotations(store, mine.task_id)[-1].value == {"choice": "fair"}

    # Mid-pull failures import nothing: a dropped connection, then a server error, each on
    # the second page of tasks; a rerun afterwards imports the new annotation exactly once.
    admin.annotations.create(id=tasks["enc-3"].id, result=[_region("a-2", "metformin",
                                                                   "MEDICATION")])  # fmt: skip
    counts = _counts(store)
    for mode, message in (("drop", "lost the connection,"), ("500", "answered HTTP 500")):
        proxy.fail = (lambda path: path.startswith("/api/tasks") and "page=2" in path, mode)
        with pytest.raises(LabelStudioError, match=f"{message} while fetching tasks .page 2"):
            pull(store, url, token, PROJECT, page_size=1)
        assert proxy.fail is None, "the failure was injected mid-pull"
        assert _counts(store) == counts, f"{mode}: nothing imported"
    assert pull(store, url, token, PROJECT, page_size=1).imported == 1
    assert pull(store, url, token, PROJECT, page_size=1).imported == 0


def test_re_push_updates_tasks_in_place_and_refuses_a_foreign_config(
    server: labelstudio_server.Server, seeded: st.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, url, token, project = seeded, server.url, server.token, "Scribe re-push"
    admin = LabelStudio(base_url=url, api_key=token)
    first = push(store, url, token, project, ["enc-1", "enc-2"])
    tasks = _ls_tasks(admin, first.ls_project_id)
    admin.annotations.create(id=tasks["enc-1"].id, result=[_region("x", "diabetes", "PROBLEM")])
    # A corrected transcript: the unannotated task is updated in place; the annotated one
    # keeps its version (its annotations point into it) and the new version gets a task.
    fixed = make_transcript([*TURNS[:2], ("clinician", "Keep taking the metformin.")])
    for encounter_id in ("enc-1", "enc-2"):
        st.save_transcript(store, encounter_id, fixed, "dr-a")
    second = push(store, url, token, project, ["enc-1", "enc-2"])
    assert (second.created, second.updated, second.unchanged) == (1, 1, 0)
    page = admin.tasks.list(project=first.ls_project_id, fields="all", page=1, page_size=100)
    versions = sorted((t.data["encounter_id"], t.data["transcript_version"], t.id)
                      for t in page.items)  # fmt: skip
    assert [v[:2] for v in versions] == [("enc-1", 1), ("enc-1", 2), ("enc-2", 2)]
    assert versions[2][2] == tasks["enc-2"].id, "updated, not duplicated"
    assert pull(store, url, token, project).imported == 1  # still checks against version 1

    # Someone edits the config in Label Studio: a pull refuses it, a push restores it.
    config = admin.projects.get(id=first.ls_project_id).label_config
    admin.projects.update(
        id=first.ls_project_id,
        label_config=config.replace("</View>\n", "<Header value='x'/></View>"),
    )
    with pytest.raises(LabelStudioError, match="does not have Scribe's labelling config"):
        pull(store, url, token, project)
    push(store, url, token, project, ["enc-1", "enc-2"])
    assert pull(store, url, token, project).imported == 0
    # The command line, with the token from the setting rather than the command line.
    monkeypatch.setenv("SCRIBE_LABELSTUDIO_TOKEN", token)
    cli = CliRunner().invoke(app, ["--data-dir", str(store.path.parent), "labelstudio", "pull",
                                   "--url", url, "--project", project])  # fmt: skip
    assert cli.exit_code == 0, cli.output
    assert "3 tasks, 1 completed annotations, 0 imported" in " ".join(cli.output.split())
    # A project of the same title that is not Scribe's is left alone.
    other = admin.projects.create(
        title="Someone else's", label_config="<View><Text name='t' value='$t'/></View>"
    )
    admin.projects.import_tasks(id=other.id, request=[{"t": "hello"}])
    with pytest.raises(LabelStudioError, match="not Scribe's"):
        push(store, url, token, "Someone else's", ["enc-1"])


def test_exported_tasks_json_imports_into_label_studio(
    server: labelstudio_server.Server, seeded: st.Store, tmp_path: Path
) -> None:
    import json

    admin = LabelStudio(base_url=server.url, api_key=server.token)
    tasks_path, config_path = write_labelstudio_export(
        seeded, ["enc-1", "enc-2"], tmp_path / "export", deidentified=True
    )
    project = admin.projects.create(
        title="Imported export", label_config=config_path.read_text(encoding="utf-8")
    )
    done = admin.projects.import_tasks(
        id=project.id, request=json.loads(tasks_path.read_text(encoding="utf-8"))
    )
    assert (done.task_count, done.prediction_count) == (2, 2)


def test_a_wrong_token_and_an_unreachable_server_are_clear(
    server: labelstudio_server.Server, seeded: st.Store
) -> None:
    with pytest.raises(LabelStudioError, match=r"HTTP 401 .* token was refused"):
        pull(seeded, server.url, "0" * 40, PROJECT)
    from tests.cached_venv import free_port

    with pytest.raises(LabelStudioError, match="Could not reach Label Studio"):
        pull(seeded, f"http://127.0.0.1:{free_port()}", server.token, PROJECT)
