"""The web environment in real Chromium (Debian's, through Playwright) on the `miniwob`
package's pages: tasks load and return rewards, known-correct actions earn reward 1, wrong
ones 0, labels stay put within an episode, bad actions are errors, and no Chromium is left."""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from lamforge.core import Action
from lamforge.envs.checker import check_env
from lamforge.envs.web.env import WebEnv
from lamforge.envs.web.miniwob import make_task, task_names

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def env():
    with WebEnv() as e:
        yield e


def by(obs, role: str, name: str | None = None):
    return next(c for c in obs.controls if c.type == role and (name is None or c.name == name))


def quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def test_click_button_right_gets_1_wrong_gets_0(env) -> None:
    for seed in range(3):
        obs = env.reset(make_task("click-button", seed))
        (target,) = quoted(env.utterance)
        right = by(obs, "button", target)
        result = env.step(Action(function="click", control_label=right.label))
        assert result.done and env.evaluate().status == "pass", (env.utterance, obs.controls)
        obs = env.reset(make_task("click-button", seed))
        wrong = next(c for c in obs.controls if c.name != target)
        env.step(Action(function="click", control_label=wrong.label))
        assert env.evaluate().status == "fail"


def test_enter_text_and_login_user_known_sequences(env) -> None:
    obs = env.reset(make_task("enter-text", 1))
    (text,) = quoted(env.utterance)
    env.step(Action(function="fill", control_label=by(obs, "textbox").label, args={"text": text}))
    env.step(Action(function="click", control_label=by(obs, "button", "Submit").label))
    assert env.evaluate().status == "pass"
    obs = env.reset(make_task("enter-text", 1))
    env.step(Action(function="fill", control_label=by(obs, "textbox").label,
                    args={"text": text + "x"}))
    env.step(Action(function="click", control_label=by(obs, "button", "Submit").label))
    assert env.evaluate().status == "fail"

    obs = env.reset(make_task("login-user", 2))
    user, password = quoted(env.utterance)
    env.step(Action(function="fill", control_label=by(obs, "textbox", "Username").label,
                    args={"text": user}))
    env.step(Action(function="fill", control_label=by(obs, "textbox", "Password").label,
                    args={"text": password}))
    result = env.step(Action(function="click", control_label=by(obs, "button", "Login").label))
    assert result.ok and env.evaluate().status == "pass"
    obs = env.reset(make_task("login-user", 2))
    env.step(Action(function="fill", control_label=by(obs, "textbox", "Password").label,
                    args={"text": user}))
    env.step(Action(function="click", control_label=by(obs, "button", "Login").label))
    assert env.evaluate().status == "fail"


def test_the_same_seed_gives_the_same_instance_and_labels_stay_put(env) -> None:
    a = env.reset(make_task("login-user", 7))
    first = env.utterance
    env.step(Action(function="fill", control_label=by(a, "textbox", "Username").label,
                    args={"text": "someone"}))
    after = env._obs
    assert {c.label: c.name for c in a.controls if c.type != "StaticText"} == \
        {c.label: c.name for c in after.controls if c.type != "StaticText"}
    env.reset(make_task("login-user", 7))
    assert env.utterance == first
    env.reset(make_task("login-user", 8))
    assert env.utterance != first


def test_bad_actions_are_errors_not_exceptions(env) -> None:
    env.reset(make_task("click-button", 0))
    r = env.step(Action(function="click", control_label="9999"))
    assert not r.ok and "no control labelled" in r.error
    assert r.observation.last_action_error == r.error
    r = env.step(Action(function="paint"))
    assert not r.ok and "unknown function" in r.error


def test_conformance(env) -> None:
    check_env(env, make_task("click-button", 0))


def test_at_least_100_tasks_load_and_return_a_reward(env) -> None:
    """Every page starts an episode with an instruction; finishing it by doing nothing (or
    one click on the first control) gives the page's own reward, a number (0 or -1 mostly)."""
    names = task_names()
    assert len(names) >= 100
    loaded = 0
    for name in names:
        obs = env.reset(make_task(name, 0))
        env._page.evaluate("() => core.endEpisode(0)")  # how the miniwob package ends one
        r = env.reward()
        if r["done"] and isinstance(r["raw"], int | float) and env.utterance is not None:
            loaded += 1
        assert obs.canvas.startswith("Utterance:")
    assert loaded >= 100, loaded


def chromium_pids() -> set[str]:
    out = subprocess.run(["pgrep", "-f", "chromium.*playwright"], capture_output=True,
                         text=True).stdout
    return set(out.split())


def test_no_chromium_is_left_after_close(env) -> None:
    before = chromium_pids()
    other = WebEnv()
    other.reset(make_task("click-button", 0))
    started = chromium_pids() - before
    assert started, "a second environment starts its own browser"
    other.close()
    other.close()  # idempotent
    deadline = time.monotonic() + 10
    while chromium_pids() & started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not chromium_pids() & started
    env.reset(make_task("click-button", 1))  # the first environment is unaffected


def test_an_episode_writes_nothing_in_the_home(empty_home) -> None:
    """Chromium writes crash-report settings and dconf's cache under the user's XDG folders
    even with a temporary profile; the environment gives it folders of its own."""
    with WebEnv() as other:
        other.reset(make_task("click-button", 0))
    assert sorted(p.relative_to(empty_home) for p in empty_home.rglob("*")) == []
