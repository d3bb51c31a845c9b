"""Writer's real GUI (writer-gui-v0): LibreOffice's own windows on Xvfb, driven through AT-SPI.

Everything is real: an X server, a D-Bus session with the AT-SPI bus, LibreOffice with the gtk3
plugin, its real Format > Character dialog, and the headless environment's checks on the saved
document.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from lamforge.core import Action, Check, Task

pytestmark = [pytest.mark.writer, pytest.mark.gui]

SIZE_TASK = Task(id="gui-size", app="writer", request="make 'steady growth' 24 pt",
                 template="report", checks=[Check(kind="font_size", text="steady growth",
                                                  size=24)])


def _character_dialog(size: str, button: str = "OK") -> list[Action]:
    """Select the phrase, open Format > Character... on its Font tab (it opens on the tab
    last shown), type the size, press `button`."""
    return [Action(function="select_text", args={"text": "steady growth"}),
            Action(function="click", control_text="Format"),
            Action(function="click", control_text="Character..."),
            Action(function="click", control_text="Font"),
            Action(function="set_edit_text", control_text="Size", args={"text": size}),
            Action(function="click", control_text=button)]


@pytest.mark.slow  # 12-16 s: `make test-gui`
def test_a_prefilled_action_named_after_the_headless_dialog_is_grounded_in_the_real_one(
        gui_env) -> None:
    """The dataflow's prefill names Manual Break's choice 'Type: Page break' and Insert
    Section's column count a 'Columns' field, after writer-v0's hand-written dialogs. The real
    dialogs have radio buttons, and a Columns tab with its own Columns field: read from the
    live tree, the flow runs and records what a user does there."""
    from lamforge.envs.episode import run_actions

    breaks = Task(id="page-break", app="writer", request="insert a page break",
                  template="table", checks=[Check(kind="page_count", min=2)],
                  actions=[Action(function="click", control_text=c) for c in
                           ("Insert", "More Breaks", "Manual Break...")] +
                  [Action(function="select_option", control_text="Type",
                          args={"option": "Page break"}),
                   Action(function="click", control_text="OK"), Action(function="finish")])
    traj = run_actions(gui_env, breaks, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    done = [(s.action.function, s.action.control_text) for s in traj.steps]
    assert ("click", "Page break") in done and ("select_option", "Type") not in done

    columns = Task(id="section", app="writer", request="a section in two columns",
                   template="report", checks=[Check(kind="section_present", columns=2)],
                   actions=[Action(function="select_text", args={"text": "north region"}),
                            Action(function="click", control_text="Insert"),
                            Action(function="click", control_text="Section..."),
                            Action(function="set_edit_text", control_text="Name",
                                   args={"text": "Findings"}),
                            Action(function="set_edit_text", control_text="Columns",
                                   args={"text": "2"}),
                            Action(function="click", control_text="Insert"),
                            Action(function="finish")])
    traj = run_actions(gui_env, columns, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    done = [(s.action.function, s.action.control_text) for s in traj.steps]
    # the dialog's name box is called after what it makes, "Section"
    assert ("set_edit_text", "Section") in done and ("set_edit_text", "Name") not in done
    assert [f for f, _ in done].count("click") == 4  # Insert, Section..., the Columns tab, Insert

    # with nothing in the dialog to read it as, the step fails as before
    wrong = breaks.model_copy(update={"id": "nothing", "actions": [
        *breaks.actions[:3], Action(function="select_option", control_text="Type",
                                    args={"option": "Sideways break"})]})
    traj = run_actions(gui_env, wrong, match="exact")
    assert traj.verdict.status == "fail" and "no control matches 'Type'" in traj.verdict.reason


def _line_spacing(option: str) -> list[Action]:
    return [Action(function="select_text", args={"text": "steady growth"}),
            Action(function="click", control_text="Format"),
            Action(function="click", control_text="Paragraph..."),
            Action(function="click", control_text="Indents & Spacing"),
            Action(function="select_option", control_text="Line Spacing",
                   args={"option": option}),
            Action(function="click", control_text="OK"), Action(function="finish")]


@pytest.mark.slow  # 12-16 s: `make test-gui`
def test_a_gtk_drop_down_without_an_entry_is_named_and_takes_an_option(gui_env) -> None:
    """Paragraph's line spacing is a GTK drop-down with no entry: a nameless button, no label
    tied to it, a list empty until a click pops it up. It shows as a combo box named after
    the frame around it, and an option is chosen in the list it pops up."""
    from lamforge.envs.episode import run_actions

    task = Task(id="spacing", app="writer", request="1.5 line spacing for 'steady growth'",
                template="report", checks=[Check(kind="line_spacing", text="steady growth",
                                                 percent=150)])
    traj = run_actions(gui_env, task.model_copy(update={"actions": _line_spacing("1.5 Lines")}),
                       match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    box = next(c for c in traj.steps[4].observation.controls if c.name == "Line Spacing")
    assert box.type == "ComboBox" and box.group == "dialog"
    # another option is taken too, and the check sees it is not the one asked for
    traj = run_actions(gui_env, task.model_copy(update={"actions": _line_spacing("Double")}),
                       match="exact")
    assert traj.verdict.status == "fail" and "'value': 200" in traj.verdict.reason
    # an option the list does not have is an error that names the ones it has
    traj = run_actions(gui_env, task.model_copy(update={"actions": _line_spacing("Triple")}),
                       match="exact")
    assert traj.verdict.status == "fail"
    assert "has no option 'Triple'" in traj.verdict.reason
    assert "1.5 Lines, Double" in traj.verdict.reason


@pytest.mark.parametrize("kind", ["Number", "Bullet"])
def test_a_choice_the_headless_dialog_names_otherwise_is_made_in_the_real_one(
        gui_env, kind) -> None:
    """writer-v0's Bullets and Numbering has a "Type" box (Bullet, Number); the real dialog
    has galleries on its Unordered and Ordered tabs and a Number drop-down on its Customize
    tab. The prefilled "Type: Number" is made there as "Number: 1, 2, 3, ..."; the check
    tells a numbered list from a bulleted one."""
    from lamforge.envs.episode import run_actions

    task = Task(id="numbered", app="writer", request="number 'steady growth'",
                template="report", checks=[Check(kind="list_type", text="steady growth",
                                                 list="number")],
                actions=[Action(function="select_text", args={"text": "steady growth"}),
                         Action(function="click", control_text="Format"),
                         Action(function="click", control_text="Bullets and Numbering..."),
                         Action(function="select_option", control_text="Type",
                                args={"option": kind}),
                         Action(function="click", control_text="OK"),
                         Action(function="finish")])
    traj = run_actions(gui_env, task, match="exact")
    done = [(s.action.function, s.action.control_text, s.action.args) for s in traj.steps]
    option = {"Number": "1, 2, 3, ...", "Bullet": "Bullet"}[kind]
    assert ("select_option", "Number", {"option": option}) in done
    if kind == "Number":
        assert traj.verdict.status == "pass", traj.verdict.reason
    else:
        assert traj.verdict.status == "fail" and "list is 'bullet'" in traj.verdict.reason


def test_the_headless_font_box_is_the_real_font_tabs_family(gui_env) -> None:
    """writer-v0's Character dialog calls the font box "Font", which is a tab of the real
    one; its box is Family, on that tab, found from the tab shown."""
    from lamforge.envs.episode import run_actions

    task = Task(id="sans", app="writer", request="'steady growth' in Liberation Sans",
                template="report", checks=[Check(kind="font_name", text="steady growth",
                                                 name="Liberation Sans")],
                actions=[Action(function="select_text", args={"text": "steady growth"}),
                         Action(function="click", control_text="Format"),
                         Action(function="click", control_text="Character..."),
                         Action(function="click", control_text="Font Effects"),
                         Action(function="set_edit_text", control_text="Font",
                                args={"text": "Liberation Sans"}),
                         Action(function="click", control_text="OK"),
                         Action(function="finish")])
    traj = run_actions(gui_env, task, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    done = [(s.action.function, s.action.control_text) for s in traj.steps]
    assert done[4:6] == [("click", "Font"), ("set_edit_text", "Family")], done


@pytest.mark.slow  # 12-16 s: `make test-gui`
def test_a_palette_button_is_named_by_its_label_and_its_colour_is_chosen(gui_env) -> None:
    """Font color is a button showing its colour ("Automatic") that pops a palette up: it
    shows as a combo box named by the label beside it, with its colour as its value.
    Page Style's "Background: Yellow" (writer-v0's name) is the Area tab's Color button,
    then the colour in the palette it shows."""
    from lamforge.envs.episode import run_actions

    color = Task(id="red", app="writer", request="'steady growth' in dark red 2",
                 template="report", checks=[Check(kind="font_color", text="steady growth",
                                                  color="Dark Red 2")],
                 actions=[Action(function="select_text", args={"text": "steady growth"}),
                          Action(function="click", control_text="Format"),
                          Action(function="click", control_text="Character..."),
                          Action(function="click", control_text="Font Effects"),
                          Action(function="select_option", control_text="Font color",
                                 args={"option": "Dark Red 2"}),
                          Action(function="click", control_text="OK"),
                          Action(function="finish")])
    traj = run_actions(gui_env, color, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    box = next(c for c in traj.steps[4].observation.controls if c.name == "Font color")
    assert box.type == "ComboBox" and box.value == "Automatic"
    wrong = color.model_copy(update={"actions": [*color.actions[:4], color.actions[4].model_copy(
        update={"args": {"option": "Dark Red 3"}}), *color.actions[5:]]})
    verdict = run_actions(gui_env, wrong, match="exact").verdict
    assert verdict.status == "fail" and verdict.reason.startswith("font_color:"), verdict

    page = Task(id="yellow", app="writer", request="a yellow page", template="report",
                checks=[Check(kind="page_background", color="Yellow")],
                actions=[Action(function="click", control_text="Format"),
                         Action(function="click", control_text="Page Style..."),
                         Action(function="select_option", control_text="Background",
                                args={"option": "Yellow"}),
                         Action(function="click", control_text="OK"),
                         Action(function="finish")])
    traj = run_actions(gui_env, page, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason
    assert [s.action.control_text for s in traj.steps][2:5] == ["Area", "Color", "Yellow"]


def test_a_multi_line_field_keeps_exactly_the_text_set(gui_env) -> None:
    """File > Properties' Comments is a multi-line box: leaving it with Tab, as a one-line
    field is left, typed a tab into the comment."""
    from lamforge.envs.episode import run_actions

    task = Task(id="comments", app="writer", request="comment the document",
                template="line", checks=[Check(kind="document_property", name="comments",
                                               value="Draft for review")],
                actions=[Action(function="click", control_text="File"),
                         Action(function="click", control_text="Properties..."),
                         Action(function="set_edit_text", control_text="Comments",
                                args={"text": "Draft for review"}),
                         Action(function="click", control_text="OK"), Action(function="finish")])
    traj = run_actions(gui_env, task, match="exact")
    assert traj.verdict.status == "pass", traj.verdict.reason


def _run(env, actions: list[Action]) -> list:
    env.reset(SIZE_TASK)
    return [env.step(a) for a in actions]


@pytest.fixture(scope="module")
def gui_env(templates_dir: Path):
    from lamforge.envs.writer.gui import WriterGuiEnv, check_installation

    status = check_installation()
    if not status.ok:
        pytest.fail("writer-gui cannot start: " + "; ".join(
            f"{n}: {d}" for n, ok, d in status.details if not ok))
    env = WriterGuiEnv(templates_dir=templates_dir)
    yield env
    env.close()


def test_the_real_character_dialog_sets_a_size_that_the_check_confirms(gui_env) -> None:
    results = _run(gui_env, _character_dialog("24 pt"))
    assert [r.ok for r in results] == [True] * 6, [r.error for r in results]
    # the dialog is LibreOffice's own: its fields were read from the accessibility tree
    assert results[3].observation.focus == "dialog: Character"
    names = {c.name for c in results[3].observation.controls}
    assert {"Family", "Style", "Size", "OK", "Cancel"} <= names
    assert results[-1].observation.focus == "document"
    verdict = gui_env.evaluate()
    assert verdict.status == "pass", verdict.reason


@pytest.mark.parametrize("size, button", [("18 pt", "OK"), ("24 pt", "Cancel")])
def test_a_wrong_value_or_a_cancelled_dialog_fails_the_check(gui_env, size, button) -> None:
    results = _run(gui_env, _character_dialog(size, button))
    assert all(r.ok for r in results), [r.error for r in results]
    verdict = gui_env.evaluate()
    assert verdict.status == "fail"
    assert "font_size" in verdict.reason


def test_a_control_the_window_does_not_show_is_an_error_the_model_sees(gui_env) -> None:
    gui_env.reset(SIZE_TASK)
    result = gui_env.step(Action(function="click", control_text="Character..."))
    assert not result.ok and "no control named 'Character...'" in result.error
    assert result.observation.last_action_error == result.error
    menus = {c.name for c in result.observation.controls if c.group == "menubar"}
    assert {"File", "Edit", "Format", "Help"} <= menus


def test_the_wheel_scrolls_the_page_and_an_observation_leaves_it_there(gui_env) -> None:
    """`scroll` turns the mouse wheel over the page. Reading the layout's page count made
    Writer scroll back to the cursor, so every observation undid the scroll; the page count
    is now read again only when the document has changed. An edit still counts its pages."""
    gui_env.reset(Task(id="look", app="writer", request="look at page 2",
                       template="multipage"))
    view = gui_env._doc.getCurrentController()

    def top() -> int:  # the top of the area the window shows, in the view's data
        return int(gui_env.office.call(view.getViewData).split(";")[4])

    assert top() == 0 and gui_env._state["page_count"] == 3
    assert gui_env.step(Action(function="scroll", args={"dy": 5})).ok
    down = top()
    assert down > 0
    assert gui_env.step(Action(function="scroll", args={"dy": 0})).error
    assert top() == down  # the failed step's observation did not scroll back
    assert gui_env.step(Action(function="scroll", args={"dy": -2})).ok
    assert 0 < top() < down
    result = gui_env.step(Action(function="keyboard", args={"keys": "ctrl+enter"}))
    assert result.ok and gui_env._state["page_count"] == 4  # a page break: counted again


def test_killing_libreoffice_mid_episode_fails_it_and_the_next_episode_passes(gui_env) -> None:
    gui_env.reset(SIZE_TASK)
    assert gui_env.step(Action(function="click", control_text="Format")).ok
    os.kill(gui_env.office.proc.pid, signal.SIGKILL)
    result = gui_env.step(Action(function="click", control_text="Character..."))
    assert not result.ok and result.done and result.info.get("crashed")
    assert "LibreOffice died" in result.error
    assert gui_env.evaluate().status == "fail"
    _run(gui_env, _character_dialog("24 pt"))
    assert gui_env.evaluate().status == "pass"


def _running(pids: set[int]) -> set[int]:
    """The pids still running (a zombie has ended: only its exit status is left)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _group_members(groups: set[int]) -> set[int]:
    """Every process in these process groups (the AT-SPI bus the D-Bus session started is
    in the daemon's)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) in groups:
                    members.add(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def test_close_leaves_no_x_server_dbus_libreoffice_or_atspi_process(templates_dir, empty_home,
                                                                      sockets_in_tmp) -> None:
    """Nor any file in the user's home: GTK's recent files, dconf's files and the AT-SPI
    bus's socket go to the display's own XDG folders, removed with it."""
    from lamforge.envs.writer.gui import WriterGuiEnv

    home = empty_home
    before = sockets_in_tmp()
    env = WriterGuiEnv(templates_dir=templates_dir)
    env.reset(SIZE_TASK)
    assert env.step(Action(function="click", control_text="Format")).ok
    groups = {os.getpgid(p) for p in [*env.gui.display.pids, env.office.proc.pid,
                                      env.gui.bridge.proc.pid]}
    started = _group_members(groups)
    assert len(started) >= 4  # Xvfb, dbus-daemon, soffice.bin, the AT-SPI server (+ its bus)
    private = Path(env.gui.display.env["XDG_DATA_HOME"]).parent
    assert private.is_dir() and private != home
    env.close()
    assert _running(started) == set() and not private.exists()
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == []
    assert sockets_in_tmp() - before == set()  # D-Bus's socket lived in the private folder
    env.close()  # idempotent


def test_a_killed_display_removes_its_socket_but_never_another_servers() -> None:
    """Xvfb removes its socket only when it ends cleanly; after the kill the owner does,
    unless a live server answers on it (another worker's Xvfb may take the number over)."""
    from lamforge.envs.gui.display import Display, _remove_x_socket

    first, second = Display().start(), Display().start()
    try:
        sockets = [Path(f"/tmp/.X11-unix/X{d.number}") for d in (first, second)]
        _remove_x_socket(first.number)  # as if `second` had taken over `first`'s number
        assert sockets[0].exists()
        first.close()
        assert not sockets[0].exists() and sockets[1].exists()
    finally:
        second.close()
    assert not sockets[1].exists()


@pytest.mark.slow
def test_a_load_hung_on_a_lock_file_left_behind_is_retried_without_it(templates_dir,
                                                                       tmp_path) -> None:
    """A killed LibreOffice leaves `.~lock.<name>#` beside the document; opened again, the
    document asks whether to open it read-only and the load hangs on the question. The
    session's retry (a fresh display and LibreOffice) removes the lock first."""
    import shutil

    from lamforge.envs.writer.gui import WriterGuiEnv
    from lamforge.envs.writer.templates import resolve_template

    with WriterGuiEnv(templates_dir=templates_dir, call_timeout=5.0) as env:
        env.reset(SIZE_TASK)
        doc = tmp_path / "report.docx"
        shutil.copy(resolve_template("report", templates_dir), doc)
        lock = tmp_path / ".~lock.report.docx#"
        lock.write_text(",Someone Else,otherhost,01.12.2026 09:00,file:///nowhere;")
        first = env.office.proc.pid
        opened = env.gui.open(doc, "com.sun.star.text.TextDocument")
        assert opened is not None and env.office.proc.pid != first  # hung once, retried
        assert env.office.call(lambda: opened.getText().getString()).startswith("Quarterly")


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_screenshots_are_kept_and_named_in_each_observation(templates_dir, tmp_path) -> None:
    from lamforge.envs.writer.gui import WriterGuiEnv

    with WriterGuiEnv(templates_dir=templates_dir, screenshots=tmp_path / "shots") as env:
        first = env.reset(SIZE_TASK)
        after = env.step(Action(function="click", control_text="Format")).observation
    names = [first.screenshot, after.screenshot]
    assert all(names) and names[0] != names[1]
    for name in names:
        assert name.startswith("gui-size-e1-")
        assert _png_size(tmp_path / "shots" / name) == (1280, 800)  # the whole screen
    # the window fills the screen (no window manager would size it): the frame shows
    assert (tmp_path / "shots" / names[1]).stat().st_size > 20_000


@pytest.mark.slow
def test_an_evaluation_keeps_screenshots_and_the_report_shows_an_episode_strip(
        tmp_path) -> None:
    import json
    import subprocess
    import sys

    tasks = tmp_path / "tasks.jsonl"
    task = SIZE_TASK.model_copy(update={"actions": [*_character_dialog("24 pt"),
                                                    Action(function="finish")]})
    tasks.write_text(task.model_dump_json() + "\n")
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "lamforge", "eval", "online", "--env",
                           "writer-gui", "--model", "expert", "--tasks", str(tasks),
                           "--screenshots", "--json", str(run / "online.json")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((run / "online.json").read_text())
    assert summary["screenshots_dir"] == "online/screenshots"
    episode = json.loads((run / "online" / "episodes.jsonl").read_text().splitlines()[0])
    assert episode["status"] == "pass"
    assert len(episode["screenshots"]) == len(episode["actions"]) + 1  # the start, each step
    assert all((run / "online" / "screenshots" / n).is_file() for n in episode["screenshots"])
    proc = subprocess.run([sys.executable, "-m", "lamforge", "report", str(run)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _png_size(run / "plots" / "episode_1.png")[0] > 600
    assert "## Episodes on screen" in (run / "report.md").read_text()
    assert "Episode on screen: expert" in (run / "report.html").read_text()


@pytest.mark.slow
def test_the_real_save_as_dialog_saves_into_the_runs_folder_not_home(templates_dir) -> None:
    """The file dialogs start in LibreOffice's Work folder, $HOME by default: a GUI episode's
    Save As wrote its file into the user's home. The Work folder is the run's own, and a file
    saved through the real dialog is one `file_saved` sees; the next episode saves the same
    name without being asked to replace the last one's file."""
    from lamforge.envs.episode import run_actions
    from lamforge.envs.writer.gui import WriterGuiEnv

    name = f"lamforge-save-{os.getpid()}"
    acts = [Action(function="click", control_text=c) for c in ("File", "Save As...")] + [
        Action(function="set_edit_text", control_text="File name", args={"text": name}),
        Action(function="click", control_text="Save"),
        Action(function="click", control_text="Use Word 2007–365 Format"),
        Action(function="finish")]
    task = Task(id="gui-save", app="writer", request=f"save it as {name}", template="report",
                checks=[Check(kind="file_saved", name=f"{name}.docx")])
    with WriterGuiEnv(templates_dir=templates_dir) as env:
        for _ in range(2):
            traj = run_actions(env, task, acts, match="exact")
            assert all(s.ok for s in traj.steps), [s.error for s in traj.steps]
            assert traj.verdict.status == "pass", traj.verdict.reason
            assert [p.name for p in env.office.docs_dir.rglob(f"{name}*")] == [f"{name}.docx"]
        # an episode that saves nothing does not see the last one's file
        nothing = run_actions(env, task, [Action(function="finish")], match="exact")
        assert nothing.verdict.status == "fail", nothing.verdict.reason
    assert not list(Path.home().glob(f"{name}*"))
