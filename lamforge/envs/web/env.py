"""The web environment: Debian's Chromium driven by Playwright, MiniWoB++ task pages from the
`miniwob` package, observed through Chromium's own accessibility tree.

A task names its page (`template: "miniwob/click-button"`) and a seed (`meta.seed`); the same
seed gives the same instance. An observation is the accessibility tree of the task area
flattened to numbered controls (role, accessible name, value, state); a label is stamped on its
element (`data-lf`) and stays the same for the whole episode. Actions go through Playwright's
real input events. Success is the page's own reward (binary: the full raw reward, as the
`miniwob` package's binary reward), with no time limit per episode, as most papers report
MiniWoB++.

One browser per environment, reused across episodes (a new page per episode), restarted when
it crashes; `close()` ends it, so no Chromium outlives the environment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from lamforge.core import (
    Action,
    Control,
    DataError,
    EnvironmentCrashed,
    EnvironmentUnavailable,
    Observation,
    ResetNeeded,
    StepResult,
    Task,
    TemplateError,
    Verdict,
)
from lamforge.envs.base import ActionSpec, Env, EnvStatus
from lamforge.envs.web.candidates import html_value, propose
from lamforge.envs.xdg import xdg_folders

CHROMIUM = os.environ.get("LAMFORGE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-smooth-scrolling"]  # a wheel scrolls at once: the same seed, the same page
STAMP_JS = (Path(__file__).with_name("stamp.js")).read_text()
START_JS = """([seed, inPlace]) => {
    // restarting in place would keep a widget the last episode left on the body (a dialog,
    // a date picker): say so (null), and the page is loaded again
    if (inPlace && window.__lfShownBeside &&
        Array.from(document.body.children).some(window.__lfShownBeside)) return null;
    // a field the last episode typed in or a box it checked keeps that (a page's new problem
    // rarely clears them: focus-text-2's boxes kept the last episode's "3rd"), and a text
    // area no longer follows the text the page writes into it (its value is "dirty"): a
    // form's reset makes each as on a page just loaded, before the page draws its problem
    const dirty = (el) => el.tagName === "SELECT"
        ? Array.from(el.options).some((o) => o.selected !== o.defaultSelected)
        : el.type === "checkbox" || el.type === "radio"
            ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
    // a widget also writes a field's state into its ARIA attributes (a jQuery UI spinner's
    // aria-valuenow), which the accessibility tree reads before the field's own value and a
    // form's reset leaves alone: the spinner read "-8" from the last episode where its field
    // held 0. They go back to what the page had when it was loaded
    const fields = document.querySelectorAll("textarea, input, select");
    const aria = (el) => Array.from(el.attributes).filter((a) => a.name.startsWith("aria-"))
        .map((a) => [a.name, a.value]);
    if (!window.__lfAria) window.__lfAria = new WeakMap();
    for (const el of fields) {
        if (!window.__lfAria.has(el)) {
            if (!inPlace) window.__lfAria.set(el, aria(el));
            continue;
        }
        const fresh = new Map(window.__lfAria.get(el));
        for (const [name] of aria(el)) if (!fresh.has(name)) el.removeAttribute(name);
        for (const [name, value] of fresh) el.setAttribute(name, value);
    }
    for (const el of fields) {
        if (!dirty(el)) continue;
        const form = document.createElement("form");
        el.replaceWith(form);
        form.appendChild(el);
        form.reset();
        form.replaceWith(el);
    }
    // no time limit per episode (common practice); a browser timer's longest delay is
    // 2^31-1 ms, and a longer one fires at once and ends the episode as timed out
    core.EPISODE_MAX_TIME = 2147483000;
    // an episode starts with nothing focused, as on a page just loaded
    if (document.activeElement && document.activeElement !== document.body) {
        document.activeElement.blur();
    }
    Math.seedrandom(seed);
    core.startEpisodeReal();
    window.__lfNext = undefined;
    if (!window.__lfClicks) {  // where each press really landed, for the step to check
        window.__lfClicks = true;
        document.addEventListener("mousedown", (e) => {
            const chain = [];  // the labels from the element pressed up to the page
            for (let el = e.target; el; el = el.parentElement) {
                if (el.dataset && el.dataset.lf) chain.push(el.dataset.lf);
            }
            window.__lfHit = chain;
        }, true);
    }
    return WOB_TASK_READY;
}"""
"""Start the episode of `seed` in one round trip; false while the task is not ready yet."""
SHOWN = ("StaticText", "generic", "image", "img", "graphics-symbol")
"""Controls that show rather than take input: a page's screen in a ranker's context lists them."""
SCREEN_CHARS = 100
"""A page's screen is read up to here in a ranker's context (its history comes after it)."""
STATE_CHARS = 40
"""A control's state is read up to here in a candidate's text (a field's text, a position)."""
ROLES = {"button", "link", "textbox", "searchbox", "checkbox", "radio", "combobox", "listbox",
         "option", "menuitem", "tab", "spinbutton", "slider", "switch", "treeitem", "gridcell",
         "cell", "heading", "listitem", "image", "img", "graphics-symbol", "Date",
         "InputTime", "StaticText"}
"""Roles shown as controls (static text too: many MiniWoB tasks click words and shapes)."""
MODIFIERS = ("Control", "Shift", "Alt")
"""Keys a click may hold."""
DRAG_STEPS = 8
"""Pointer moves between press and release: jQuery UI starts a drag after a move or two."""
SCROLL_SETTLE_MS = 500
"""A wheel returns before the scroll is done (Playwright does not wait for it): a step waits
until the scrolled thing stays put for three frames, at most this long, so a scroll left
over cannot land in the next episode."""
SETTLE_JS = """([label, most]) => new Promise((done) => {
    const el = label ? document.querySelector(`[data-lf="${label}"]`)
                     : document.scrollingElement;
    const start = performance.now();
    let last = el ? el.scrollTop : 0, still = 0;
    const frame = () => {
        const now = el ? el.scrollTop : 0;
        still = now === last ? still + 1 : 0;
        last = now;
        if (still >= 3 || performance.now() - start > most) done(now);
        else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
})"""

ANIMATION_MS = 1000
"""A step waits for the page's jQuery animations (a date picker sliding in) to end, at most
this long: an observation taken mid-way would differ from one episode to the next."""
STILL_JS = """(most) => new Promise((done) => {
    const start = performance.now();
    const frame = () => {
        const moving = window.jQuery && jQuery.timers && jQuery.timers.length;
        if (!moving || performance.now() - start > most) done(true);
        else requestAnimationFrame(frame);
    };
    frame();
})"""

SUGGEST_MS = 600
"""After typing in a field that offers suggestions, a step waits for their list, at most this
long: jQuery UI's autocomplete shows it 300 ms after the last key, and an observation taken
before never showed the items to choose (the search reached them only through ArrowDown)."""
SUGGEST_JS = """([label, most]) => new Promise((done) => {
    // a field that says it offers suggestions: ARIA's aria-autocomplete, an HTML list of
    // suggestions, or a widget's class (jQuery UI marks its fields ui-autocomplete-input)
    const el = document.querySelector(`[data-lf="${label}"]`);
    if (!el || !(el.hasAttribute("aria-autocomplete") || el.hasAttribute("list") ||
                 /autocomplete/.test(el.className))) return done(false);
    const shown = () => Array.from(document.body.children)
        .filter(window.__lfShownBeside || (() => false)).length;
    const before = shown(), start = performance.now();
    const frame = () => {
        if (shown() > before) done(true);
        else if (performance.now() - start > most) done(false);
        else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
})"""

ACTIONS = [
    ActionSpec("click", "Click a control; `modifiers` holds keys during the click ('Control' "
               "adds an option to a multi-select list's choice, 'Shift' extends it).", True,
               {"modifiers": {"type": "string", "enum": ["", *MODIFIERS], "default": ""}}),
    ActionSpec("fill", "Replace the text of a text field.", True,
               {"text": {"type": "string"}}),
    ActionSpec("select_option", "Choose an option of a list or drop-down.", True,
               {"option": {"type": "string"}}),
    ActionSpec("keyboard", "Press keys, e.g. 'Enter' or 'Control+A'.", False,
               {"keys": {"type": "string"}}),
    ActionSpec("scroll", "Scroll a control (a list, a text area; the page where the pointer is "
               "when none is named) by some pixels, down when positive.", False,
               {"dy": {"type": "integer", "default": 200}}),
    ActionSpec("drag", "Drag a control with the mouse and drop it on the middle of another "
               "(`to`: that control's label).", True, {"to": {"type": "string"}}),
    ActionSpec("finish", "Say the task is done.", False, {}),
]


def _is_option(nodes: dict[str, Any], strings: list[str], i: int) -> bool:
    """An <option> of a <select>: shown as a control though a closed list lays none out."""
    return strings[nodes["nodeName"][i]] == "OPTION"


def miniwob_dir() -> Path:
    try:
        import miniwob
    except ImportError:
        raise EnvironmentUnavailable("the web environment needs the 'miniwob' package "
                                     "(pip install miniwob)") from None
    return Path(miniwob.__file__).parent / "html" / "miniwob"


def check_installation() -> EnvStatus:
    details = []
    details.append(("chromium", Path(CHROMIUM).is_file(),
                    CHROMIUM if Path(CHROMIUM).is_file() else "apt-get install chromium"))
    try:
        import playwright  # noqa: F401

        details.append(("playwright", True, "python package"))
    except ImportError:
        details.append(("playwright", False, "pip install playwright (no browser download)"))
    try:
        details.append(("miniwob", True, str(miniwob_dir())))
    except EnvironmentUnavailable as e:
        details.append(("miniwob", False, str(e)))
    return EnvStatus(ok=all(ok for _, ok, _ in details), details=details)


_DRIVER: Any = None
_DRIVER_USERS = 0


def _driver() -> Any:
    """Playwright's driver, one per process (its sync API allows one per thread), shared by
    every WebEnv of the process and stopped when the last one closes."""
    global _DRIVER, _DRIVER_USERS
    if _DRIVER is None:
        from playwright.sync_api import sync_playwright

        _DRIVER = sync_playwright().start()
    _DRIVER_USERS += 1
    return _DRIVER


def _release_driver() -> None:
    global _DRIVER, _DRIVER_USERS
    _DRIVER_USERS -= 1
    if _DRIVER_USERS <= 0 and _DRIVER is not None:
        try:
            _DRIVER.stop()
        finally:
            _DRIVER, _DRIVER_USERS = None, 0


class WebEnv(Env):
    name = "web-v0"
    judges_itself = True
    thread_bound = True  # Playwright's sync API; every action has its own time-out

    def __init__(self, headless: bool = True, timeout_ms: float = 2000) -> None:
        self.headless = headless
        self.timeout_ms = timeout_ms
        self._pw: Any = None
        self._browser: Any = None
        self._page: Any = None
        self._cdp: Any = None
        self._page_file: Path | None = None
        self._home: Path | None = None  # Chromium's XDG folders
        self.task: Task | None = None
        self.utterance = ""
        self._obs: Observation | None = None
        self._aimed: str | None = None
        self._hit: list[str] | None = None
        self._done = False
        self._page_done = False

    # ---- the browser ---------------------------------------------------------------------
    def _start(self) -> None:
        if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
            raise EnvironmentUnavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        self._pw = _driver()
        # Chromium writes crash-report settings to ~/.config/chromium and GTK's dconf cache to
        # ~/.cache even with a temporary profile: give it XDG folders of its own
        self._home = Path(tempfile.mkdtemp(prefix="lamforge-chromium-"))
        xdg = xdg_folders(self._home, ("config", "cache"))
        self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                                 headless=self.headless,
                                                 env={**os.environ, **xdg})

    def _alive(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def close(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(Exception):  # already gone: closing must not raise
                self._browser.close()
        if self._pw is not None:
            _release_driver()
        self._pw = self._browser = self._page = self._cdp = self._page_file = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def abort(self) -> None:
        self.close()

    # ---- episodes ------------------------------------------------------------------------
    def reset(self, task: Task) -> Observation:
        name = task.template.removeprefix("miniwob/")
        page_file = miniwob_dir() / f"{name}.html"
        if not page_file.is_file():
            raise TemplateError(f"unknown MiniWoB++ task '{name}' (no {page_file.name})")
        if not self._alive():
            self.close()
            self._start()
        try:
            seed = task.meta.get("seed", 0)
            ready = None
            if self._page is not None and self._page_file == page_file:
                ready = self._page.evaluate(START_JS, [seed, True])  # restart in place
                if ready is None:  # a widget of the last episode is still open: reload
                    self._page_file = None
            if self._page is None or self._page_file != page_file:
                # a new task page; the same task's next episode restarts on the loaded page
                if self._page is not None:
                    self._page.close()
                self._page = self._browser.new_page()
                self._page.set_default_timeout(self.timeout_ms)
                self._page.set_default_navigation_timeout(30_000)  # a busy machine loads slowly
                self._page.goto(page_file.as_uri())
                self._cdp = self._page.context.new_cdp_session(self._page)
                self._page_file = page_file
                ready = self._page.evaluate(START_JS, [seed, False])
            if not ready:
                self._wait_ready()
        except Exception as e:  # the browser died: restart on the next reset
            self.close()
            raise EnvironmentCrashed(f"Chromium failed to start the episode: {e}") from None
        self.task = task
        self._done = False
        self._obs = self._observe()
        self.utterance = self._canvas_utterance
        return self._obs

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not self._page.evaluate("() => WOB_TASK_READY") and time.monotonic() < deadline:
            time.sleep(0.02)

    def _observe(self, error: str | None = None) -> Observation:
        self._boxes: dict[str, tuple[float, float, float, float]] = {}
        canvas = self._page.evaluate(STAMP_JS)
        self._canvas_utterance = canvas["utterance"]
        self._page_done = bool(canvas["done"])
        self._hit = canvas.get("hit")
        ax = self._cdp.send("Accessibility.getFullAXTree")["nodes"]
        snap = self._cdp.send("DOMSnapshot.captureSnapshot", {"computedStyles": [],
                                                               "includeDOMRects": True})
        strings = snap["strings"]
        doc = snap["documents"][0]
        nodes = doc["nodes"]
        # what is laid out with a size is what a user can see (and Playwright can click)
        bounds = {i: b for i, b in zip(doc["layout"]["nodeIndex"], doc["layout"]["bounds"],
                                       strict=True) if b[2] > 0 and b[3] > 0}
        shown = set(bounds)
        scroll_x, scroll_y = doc.get("scrollOffsetX", 0), doc.get("scrollOffsetY", 0)
        labels: dict[int, tuple[str, str]] = {}
        parents = nodes["parentIndex"]
        backend = nodes["backendNodeId"]
        lf = {}
        dropdowns: set[str] = set()
        owner: dict[str, int] = {}  # option label -> node index of its <select>
        marked: dict[str, str] = {}  # label -> the state a page's class gives it
        swatches: list[int] = []  # textless coloured elements (their colour names them)
        draggable: set[str] = set()  # labels of what the page lets a user drag
        dated: dict[str, str] = {}  # label -> the date of a calendar's day
        for i, attrs in enumerate(nodes["attributes"]):
            named = {strings[attrs[j]]: strings[attrs[j + 1]] for j in range(0, len(attrs), 2)}
            if "data-lf" in named:
                lf[i] = (named["data-lf"], named.get("data-lf-name", ""))
                if "data-lf-state" in named:
                    marked[named["data-lf"]] = named["data-lf-state"]
                if "data-lf-date" in named:  # a calendar's day: its date is its value
                    dated[named["data-lf"]] = named["data-lf-date"]
                if "data-lf-drag" in named:
                    draggable.add(named["data-lf"])
                if "data-lf-swatch" in named and i in bounds:
                    swatches.append(i)
                if strings[nodes["nodeName"][i]] == "SELECT":
                    dropdowns.add(named["data-lf"])
                elif strings[nodes["nodeName"][i]] == "OPTION":  # whose list it is in
                    j = parents[i]
                    while j >= 0 and strings[nodes["nodeName"][j]] != "SELECT":
                        j = parents[j]
                    owner[named["data-lf"]] = j
                if i in bounds:  # where a click goes, in the viewport's coordinates
                    x, y, w, h = bounds[i]
                    self._boxes[named["data-lf"]] = (x - scroll_x, y - scroll_y, w, h)
        for i, b in enumerate(backend):
            if i not in shown and not _is_option(nodes, strings, i):
                continue
            j = i  # a text node takes the label of the element it is in
            while j >= 0 and j not in lf:
                j = parents[j]
            if j >= 0:
                labels[b] = lf[j]
        controls: list[Control] = []
        seen: set[str] = set()
        shown_labels: set[str] = set()  # labels of the controls so far
        for n in ax:
            if n.get("ignored"):
                continue
            role = n.get("role", {}).get("value", "")
            if role not in ROLES or n.get("backendDOMNodeId") not in labels:
                continue
            label, hint = labels[n["backendDOMNodeId"]]
            name = str(n.get("name", {}).get("value", "")).strip() or hint
            props = {p["name"]: p["value"].get("value") for p in n.get("properties", [])}
            if not name and role in ("StaticText", "generic"):
                continue
            key = f"{label}:{name}"
            if key in seen or (role == "StaticText" and label in shown_labels):
                continue  # a text inside a control already shown is that control's name
            seen.add(key)
            shown_labels.add(label)
            value = n.get("value", {}).get("value")
            if value in (None, "") and label in dated:
                value = dated[label]
            state = "checked" if props.get("checked") in (True, "true") else \
                "selected" if role == "option" and props.get("selected") in (True, "true") \
                else marked.get(label)
            if props.get("readonly") in (True, "true"):
                role += " readonly"  # a field that takes no typing (a date picker's)
            if props.get("multiselectable") in (True, "true"):
                role += " multiselectable"  # a list where ctrl-click adds an option
            if label in draggable:  # where it is, so a drag that moved it is seen
                role += " draggable"
                box = self._boxes.get(label)
                value = value or (f"at {box[0]:.0f},{box[1]:.0f}" if box else None)
            controls.append(Control(label=label, name=name[:80], type=role,
                                    value=state or (None if value in (None, "")
                                                    else str(value)[:80]),
                                    enabled=not props.get("disabled")))
        # a box told apart only by its colour is a control even where the page gives it no
        # role (a <div> or <span> with a background): a user clicks it. It takes its place in
        # the page's order (labels are stamped in that order)
        for i in swatches:
            label, hint = lf[i]
            if label in shown_labels:
                continue
            shown_labels.add(label)
            at = next((k for k, c in enumerate(controls) if c.label.isdigit() and
                       int(c.label) > int(label)), len(controls))
            controls.insert(at, Control(label=label, name=hint, type="generic",
                                        value=marked.get(label)))
        # a drop-down lists its options (they are controls of their own too: a click on one
        # chooses it)
        lists: dict[str, list[str]] = {d: [] for d in dropdowns}
        for c in controls:
            j = owner.get(c.label, -1)
            if c.type == "option" and j in lf and lf[j][0] in lists:
                lists[lf[j][0]].append(c.name)
        controls = [c.model_copy(update={"options": lists[c.label]}) if c.label in lists
                    else c for c in controls]
        scrolled = "".join(f"Scroll {label}: {top} of {most} px (a page is {page} px)\n"
                           for label, top, most, page in canvas["scrolls"])
        return Observation(controls=controls, canvas=f"Utterance: {canvas['utterance']}\n"
                           f"{scrolled}{canvas['text'][:2000]}", focus=canvas["focus"],
                           last_action_error=error)

    def action_space(self) -> list[ActionSpec]:
        return ACTIONS

    def step(self, action: Action) -> StepResult:
        if self.task is None or self._obs is None:
            raise ResetNeeded("call reset(task) before step()")
        if self._done:
            return StepResult(observation=self._obs, ok=False, done=True,
                              error="the episode is over (finish was called)")
        spec = next((s for s in ACTIONS if s.name == action.function), None)
        if spec is None:
            return self._fail(f"unknown function '{action.function}' (known: "
                              f"{', '.join(s.name for s in ACTIONS)})")
        unknown = [k for k in action.args if k not in spec.args]
        if unknown:
            return self._fail(f"{spec.name} takes no argument '{unknown[0]}' (it takes: "
                              f"{', '.join(spec.args) or 'none'})")
        missing = [k for k in spec.required if k not in action.args]
        if missing:
            return self._fail(f"{spec.name} needs {', '.join(missing)}")
        if spec.needs_control and not action.control_label:
            return self._fail(f"{spec.name} needs a control_label")
        if action.function == "finish":
            self._done = True
            return StepResult(observation=self._obs, ok=True, done=True)
        t0 = time.perf_counter()
        self._aimed = None
        try:
            error = self._act(action, spec)
        except Exception as e:
            if not self._alive():
                self.close()
                return StepResult(observation=Observation(focus="crashed"), ok=False,
                                  error=f"Chromium crashed: {e}", info={"crashed": True})
            error = f"{action.function} failed: {str(e).splitlines()[0][:160]}"
        act_s = time.perf_counter() - t0
        if self._alive():
            with contextlib.suppress(Exception):  # a page that navigated away has no jQuery
                self._page.evaluate(STILL_JS, ANIMATION_MS)
        self._obs = self._observe(error)
        if error is None and self._aimed is not None and self._hit is not None and \
                self._aimed not in self._hit:
            # the box of the observation was out of date (the page moved since) or something
            # covers the control: the press went elsewhere, and the model is told
            target = self._obs.control(self._hit[0]) if self._hit else None
            error = (f"the click on '{action.control_label}' landed on "
                     f"{repr(target.name) if target else 'another element'} (the page moved, "
                     "or something covers the control)")
            self._obs = self._obs.model_copy(update={"last_action_error": error})
        return StepResult(observation=self._obs, ok=error is None, error=error,
                          done=self._page_done,
                          info={"act_s": act_s, "step_s": time.perf_counter() - t0})

    def _fail(self, error: str) -> StepResult:
        assert self._obs is not None
        self._obs = self._obs.model_copy(update={"last_action_error": error})
        return StepResult(observation=self._obs, ok=False, error=error)

    def _act(self, action: Action, spec: ActionSpec) -> str | None:
        page = self._page
        if action.function == "keyboard":
            page.keyboard.press(str(action.args.get("keys", "")))
            return None
        assert self._obs is not None
        if action.function == "scroll":
            # the wheel over the control named (a list, a text area), else where the pointer is
            box = self._boxes.get(action.control_label or "")
            if action.control_label and box is None:
                return f"no control labelled '{action.control_label}' is on the page"
            if box is not None:
                page.mouse.move(box[0] + box[2] / 2, box[1] + box[3] / 2)
            page.mouse.wheel(0, int(action.args.get("dy", 200)))
            page.evaluate(SETTLE_JS, [action.control_label or None, SCROLL_SETTLE_MS])
            return None
        control = self._obs.control(action.control_label or "")
        if control is None:
            return f"no control labelled '{action.control_label}' is on the page"
        target = page.locator(f'[data-lf="{control.label}"]')
        held = str(action.args.get("modifiers") or "")
        if held and held not in MODIFIERS:
            return f"click holds one of {', '.join(MODIFIERS)}, not '{held}'"
        if action.function == "click" and held:
            # a click with a key held, on the element itself (an option of a list too: the
            # ctrl-click that adds it to the list's choice)
            self._aimed = control.label
            target.click(modifiers=[held], timeout=self.timeout_ms)
        elif action.function == "click" and control.type == "option":
            # an option of a drop-down: what a user's click in the open list does
            target.locator("xpath=ancestor::select").select_option(
                element=target.element_handle(timeout=self.timeout_ms), timeout=self.timeout_ms)
        elif action.function == "click":
            # a real mouse click at the middle of the element's box, as a user clicks: what is
            # on top there gets it (Playwright's locator click waits ~30 ms on actionability
            # checks a user does not make); the box comes with the observation's snapshot
            # (asking the page for it again would cost a third of the step)
            known = self._boxes.get(control.label)
            box = dict(zip(("x", "y", "width", "height"), known, strict=True)) if known \
                else target.bounding_box(timeout=self.timeout_ms)
            view = page.viewport_size or {"width": 1280, "height": 720}
            if box is not None and not (box["y"] >= 0 and box["y"] + box["height"] <= view["height"]
                                        and 0 <= box["x"] <= view["width"]):
                target.scroll_into_view_if_needed(timeout=self.timeout_ms)
                box = target.bounding_box(timeout=self.timeout_ms)
            if box is None:
                return f"control '{control.name}' is not visible"
            self._aimed = control.label
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        elif action.function == "drag":
            return self._drag(control, str(action.args.get("to", "")))
        elif action.function == "fill":
            target.fill(html_value(control.type, str(action.args.get("text", ""))),
                        timeout=self.timeout_ms)
            page.evaluate(SUGGEST_JS, [control.label, SUGGEST_MS])
        elif action.function == "select_option":
            target.select_option(label=str(action.args.get("option", "")),
                                 timeout=self.timeout_ms)
        return None

    def _drag(self, control: Control, to: str) -> str | None:
        """Press on the middle of `control`, move to the middle of control `to` in small
        steps (a drag library follows the pointer's moves) and let go there."""
        page = self._page
        start, end = self._boxes.get(control.label), self._boxes.get(to)
        if self._obs is None or self._obs.control(to) is None or end is None:
            return f"no control labelled '{to}' to drop on is on the page"
        if start is None:
            return f"control '{control.name}' is not visible"
        self._aimed = control.label
        page.mouse.move(start[0] + start[2] / 2, start[1] + start[3] / 2)
        page.mouse.down()
        page.mouse.move(end[0] + end[2] / 2, end[1] + end[3] / 2, steps=DRAG_STEPS)
        page.mouse.up()
        return None

    def instruction(self) -> str | None:
        """The page's utterance: each seed draws its own."""
        return self.utterance or None

    @classmethod
    def resolve_document(cls, doc: str) -> str:
        """A page of the suite: 'miniwob/click-button' or just 'click-button'."""
        return doc if doc.startswith("miniwob/") else f"miniwob/{doc}"

    @classmethod
    def validate_task(cls, task: Task) -> None:
        name = task.template.removeprefix("miniwob/")
        if not task.template.startswith("miniwob/") or \
                not (miniwob_dir() / f"{name}.html").is_file():
            raise DataError(f"task '{task.id}': template '{task.template}' is not a MiniWoB++ "
                            "page (expected miniwob/<task>, e.g. miniwob/click-button)")

    @classmethod
    def candidates(cls, observation: Observation, request: str,
                   limit: int | None = None) -> list[Action]:
        """The search's moves, best first; the whole list (a ranker's, `limit` None) also
        holds finish, so a page with nothing left to do still has an answer."""
        found = propose(observation, request, limit)
        return found if limit is not None else [*found, Action(function="finish")]

    @classmethod
    def screen(cls, observation: Observation) -> str:
        """What the page shows besides its controls, as a ranker reads it in its context:
        its texts and its shapes and swatches by name ("showing: large red circle, 7"), the
        page's answers to a question about a figure (which button names it, how many there
        are). A ranker embeds a candidate apart from its context: a figure on the page was in
        neither until now."""
        shown = [c.name for c in observation.controls
                 if c.type.split()[0] in SHOWN and c.name.strip()]
        return "page" + (f" showing: {', '.join(shown)}"[:SCREEN_CHARS] if shown else "")

    @classmethod
    def describe_candidate(cls, action: Action, control: Control | None) -> str:
        """A candidate as a ranker reads it, with its control's state: a box already checked
        or a swatch already selected reads apart from one still to choose, a filled field from
        an empty one. The ranker embeds a candidate apart from the step's context, so a state
        told only by the history is lost: it clicked Submit with one of five named boxes left,
        and filled 'Password' where 'Verify password' was empty."""
        text = super().describe_candidate(action, control)
        if control is None:
            return text
        kind = control.type.split()[0]
        state = control.value or ("not checked" if kind in ("checkbox", "radio") else
                                  "empty" if kind in ("textbox", "searchbox", "spinbutton")
                                  else "")
        return f"{text} ({state[:STATE_CHARS]})" if state else text

    def reward(self) -> dict[str, Any]:
        """The page's reward globals: done, reward, raw reward (no time penalty), reason."""
        return self._page.evaluate("() => ({done: WOB_DONE_GLOBAL, reward: WOB_REWARD_GLOBAL, "
                                   "raw: WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON})")

    def evaluate(self) -> Verdict:
        if self.task is None or self._page is None:
            raise ResetNeeded("call reset(task) before evaluate()")
        r = self.reward()
        if not r["done"]:
            return Verdict(status="fail", reason="the task's page gave no reward (episode not "
                                                 "completed)")
        # success as the miniwob package's binary reward has it: the full raw reward (a
        # partial one, 0.2 for two of five checkboxes, is not a success)
        ok = (r["raw"] or 0) >= 1.0 - 1e-9
        return Verdict(status="pass" if ok else "fail",
                       reason=f"reward {r['raw']:.2f}" + (f" ({r['reason']})" if r["reason"]
                                                          else ""))
