"""The transcript player: the transcript, word by word, driving the recording above it.

The recording is a plain ``st.audio`` inside a container keyed :data:`AUDIO_KEY`; Streamlit's
media file manager serves it by URL (HTTP range requests), so a rerun sends no audio bytes.
This ``st.components.v2`` component (no iframe: it lives in the page) finds that ``<audio>``
element and:

- plays from a word's start when a word or a segment's time is clicked, and reports the click
  (trigger ``clicked``: segment, word, time) so Python can select that segment;
- marks the word being spoken (class ``now``) while the audio plays and keeps it in view;
- seeks to the evidence when the server asks (``seek``: time and request number), plays it and
  scrolls the marked source into view.

The HTML it shows is built here in Python (:func:`player_data`), so AppTest can check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pipelines.types import Entity, Evidence, Transcript
from workbench.ui import components as ui

PLAYER_KEY = "transcript-player"
AUDIO_KEY = "source-audio"
# The st.audio element the player drives (the container's key becomes a CSS class).
AUDIO_SELECTOR = f".st-key-{AUDIO_KEY} audio"
TRANSCRIPT_HEIGHT_PX = 560

_CSS = """
.tp-box { max-height: var(--tp-height, 560px); overflow-y: auto; padding-right: 4px;
  line-height: 1.6; font-size: 0.95rem; }
.seg { margin: 0 0 6px 0; padding: 2px 8px; border-left: 4px solid transparent; }
.seg.cited { border-left-color: #e0a800; }
.seg.playing { background: rgba(91, 155, 213, 0.08); }
.ts { font-family: monospace; color: #666; background: none; border: none; padding: 0;
  cursor: pointer; font-size: inherit; }
.ts:hover { color: #1f4e79; text-decoration: underline; }
.spk { color: white; border-radius: 4px; padding: 0 6px; font-size: 0.8em; }
.w { cursor: pointer; border-radius: 3px; }
.w:hover { background: rgba(0, 0, 0, 0.07); }
.w.now { background: #cfe3ff; box-shadow: 0 0 0 1px #5b9bd5; }
mark.flash { animation: tp-flash 1.2s ease-out 2; }
@keyframes tp-flash { 50% { background: #ffd54f; } }
"""

_HTML = "<div class='tp-box' role='region' aria-label='Transcript'></div>"

# State lives on the box element: Streamlit calls this function again (same element) whenever
# the data changes, and calls only the last returned cleanup when the component unmounts.
_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const box = parentElement.querySelector('.tp-box');
  const s = box.__player || (box.__player = createPlayer(box));
  s.trigger = setTriggerValue;
  s.selector = data.audio_selector;
  box.style.setProperty('--tp-height', data.height + 'px');
  if (s.html !== data.html) {
    box.innerHTML = data.html;
    s.html = data.html;
    s.index();
  }
  s.seek(data.seek);
  return s.destroy;
}

function createPlayer(box) {
  const s = { words: [], current: null, lastSeek: undefined, frame: 0 };
  s.audio = () => document.querySelector(s.selector);

  s.index = () => {
    const byId = new Map();
    for (const span of box.querySelectorAll('.w')) {
      const id = span.dataset.w;
      if (!byId.has(id)) {
        byId.set(id, { id, t: parseFloat(span.dataset.t), e: parseFloat(span.dataset.e),
                       spans: [] });
      }
      byId.get(id).spans.push(span);
    }
    s.words = [...byId.values()].sort((a, b) => a.t - b.t);
    s.current = null;
    s.follow(false);
  };

  // The word being spoken at time t: the last one starting at or before t, unless the
  // speaker has been silent for a while since it ended.
  s.wordAt = (t) => {
    let lo = 0, hi = s.words.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s.words[mid].t <= t + 0.01) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (found < 0) return null;
    const w = s.words[found];
    return t <= w.e + 0.75 ? w : null;
  };

  s.follow = (scroll) => {
    const audio = s.audio();
    const w = audio ? s.wordAt(audio.currentTime) : null;
    if (w === s.current) return;
    if (s.current) s.current.spans.forEach((el) => el.classList.remove('now'));
    box.querySelectorAll('.seg.playing').forEach((el) => el.classList.remove('playing'));
    s.current = w;
    if (!w) return;
    w.spans.forEach((el) => el.classList.add('now'));
    const row = w.spans[0].closest('.seg');
    if (row) row.classList.add('playing');
    if (scroll) keepInView(box, w.spans[0]);
  };

  const tick = () => {
    s.follow(true);
    const audio = s.audio();
    s.frame = audio && !audio.paused ? requestAnimationFrame(tick) : 0;
  };
  const onMedia = (e) => {
    if (e.target !== s.audio()) return;
    if (e.type === 'play' && !s.frame) s.frame = requestAnimationFrame(tick);
    else s.follow(e.type === 'seeked');
  };
  const events = ['play', 'pause', 'seeked', 'timeupdate'];
  // Media events do not bubble; a capturing listener on the document still sees them, and
  // keeps working if Streamlit replaces the audio element.
  events.forEach((type) => document.addEventListener(type, onMedia, true));

  s.playFrom = (t) => {
    const audio = s.audio();
    if (!audio) return;
    const go = () => {
      audio.currentTime = t;
      audio.play().catch(() => {});  // the browser may refuse to autoplay; the seek stays
    };
    if (audio.readyState >= 1) go();
    else audio.addEventListener('loadedmetadata', go, { once: true });
  };

  box.addEventListener('click', (e) => {
    const target = e.target.closest('.w, .ts');
    if (!target || !box.contains(target)) return;
    const t = parseFloat(target.dataset.t);
    s.playFrom(t);
    const [segment, word] = (target.dataset.w || target.dataset.seg + '.').split('.');
    s.trigger('clicked', { segment: parseInt(segment, 10),
                           word: word === '' ? null : parseInt(word, 10), time: t });
  });

  s.seek = (request) => {
    const key = request ? request.seq + ':' + request.t : '';
    const first = s.lastSeek === undefined;
    if (key === s.lastSeek) return;
    s.lastSeek = key;
    // On first mount the request is an old one (e.g. from before navigating here): position
    // the audio there without starting it.
    if (!request) return;
    if (first) {
      const audio = s.audio();
      if (audio && audio.readyState >= 1) audio.currentTime = request.t;
      return;
    }
    s.playFrom(request.t);
    const marks = box.querySelectorAll('mark');
    marks.forEach((m) => {  // restart the flash animation
      m.classList.remove('flash');
      void m.offsetWidth;
      m.classList.add('flash');
    });
    if (marks.length) keepInView(box, marks[0]);
  };

  s.destroy = () => {
    events.forEach((type) => document.removeEventListener(type, onMedia, true));
    if (s.frame) cancelAnimationFrame(s.frame);
  };
  return s;
}

// Scroll the transcript box (not the page) so el is visible, a third from the top.
function keepInView(box, el) {
  const boxRect = box.getBoundingClientRect();
  const r = el.getBoundingClientRect();
  if (r.top >= boxRect.top && r.bottom <= boxRect.bottom) return;
  box.scrollTop += r.top - boxRect.top - box.clientHeight / 3;
}
"""

_player = st.components.v2.component("scribe_transcript_player", html=_HTML, css=_CSS, js=_JS)


@dataclass(frozen=True)
class PlayerClick:
    """What the reviewer clicked in the player: a segment's time (word None) or a word."""

    segment: int
    word: int | None
    time: float


def transcript_html(
    transcript: Transcript,
    entities: Iterable[Entity],
    colours: Mapping[str, str],
    evidence: Iterable[Evidence] = (),
    negated_colour: str = ui.NEGATED_COLOUR,
) -> str:
    """The transcript as the player shows it: speaker turns with clickable times, every word
    timed (``class='w'``), entities highlighted and the evidence marked."""
    evidence = tuple(evidence)
    cited = {e.segment_idx for e in evidence}
    return "".join(
        ui.player_row(
            seg,
            ui.highlight_segment(
                seg, entities, colours, evidence, negated_colour=negated_colour, word_times=True
            ),
            seg.idx in cited,
        )
        for seg in transcript.segments
    )


@st.cache_data(show_spinner=False, max_entries=64)
def cached_transcript_html(
    version_key: tuple[str, str, int, int],
    evidence: tuple[Evidence, ...],
    colours: tuple[tuple[str, str], ...],
    negated_colour: str,
    _transcript: Transcript,
    _entities: tuple[Entity, ...],
) -> str:
    """:func:`transcript_html`, built once per stored version and evidence shown.

    ``version_key`` (data folder, encounter, transcript version, entity set version) names
    ``_transcript`` and ``_entities``: stored versions never change, so they need not be
    hashed (1,500 words take about 12 ms to render, a tenth of the rerun budget).
    """
    return transcript_html(_transcript, _entities, dict(colours), evidence, negated_colour)


def seek_request(play_from: float | None, seq: int) -> dict[str, float | int] | None:
    """What the player seeks to: ``play_from`` seconds, as request number ``seq`` (a new
    number replays the same time)."""
    if play_from is None:
        return None
    return {"t": round(float(play_from), 3), "seq": seq}


def player_data(html: str, seek: dict[str, Any] | None) -> dict[str, Any]:
    """Everything the component receives (JSON): the transcript HTML, the seek request, the
    audio element's selector and the transcript box's height."""
    return {
        "html": html,
        "seek": seek,
        "audio_selector": AUDIO_SELECTOR,
        "height": TRANSCRIPT_HEIGHT_PX,
    }


def transcript_player(
    data: Mapping[str, Any],
    on_click: Callable[[PlayerClick], None] | None = None,
    key: str = PLAYER_KEY,
) -> PlayerClick | None:
    """Mount the player; returns the click of this rerun, if any. ``on_click`` runs as a
    widget callback (before the page script) with that click."""

    def _clicked() -> None:
        click = clicked(st.session_state[key].get("clicked"))
        if click is not None and on_click is not None:
            on_click(click)

    result = _player(key=key, data=dict(data), on_clicked_change=_clicked)
    return clicked(result.get("clicked"))


def clicked(value: Any) -> PlayerClick | None:
    """The component's ``clicked`` trigger value as a :class:`PlayerClick` (None if absent
    or malformed)."""
    if not isinstance(value, Mapping):
        return None
    try:
        word = value.get("word")
        return PlayerClick(
            int(value["segment"]), None if word is None else int(word), float(value["time"])
        )
    except (KeyError, TypeError, ValueError):
        return None
