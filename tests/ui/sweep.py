"""The machinery of the every-button sweep (test_sweep.py): find a window's enabled buttons and
actions, trigger each as a person would, and answer whatever opens.

``Watcher`` runs on a timer while the sweep clicks: every dialog that opens and is not one the
sweep is going through is recorded and cancelled (a file dialog, a text box, a confirmation: its
Cancel, No or Close; an information box: its OK), and every popup menu is recorded and closed, so
its actions can be triggered one by one afterwards. A warning or an error box is a failure: the
sweep collects them with what was clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QDialog,
    QMenu,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QToolButton,
    QWidget,
)

# Ways out of a question, in the order a cautious person picks them.
_CANCELS = (
    QMessageBox.StandardButton.Cancel,
    QMessageBox.StandardButton.No,
    QMessageBox.StandardButton.Close,
    QMessageBox.StandardButton.Abort,
    QMessageBox.StandardButton.Ok,
)


@dataclass
class Opened:
    kind: str
    title: str
    text: str
    by: str  # what was triggered when it opened


@dataclass
class Watcher:
    """Cancels every dialog but the ``protected`` ones; records what opened and what went wrong."""

    protected: list[QWidget] = field(default_factory=list, repr=False)
    opened: list[Opened] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    menus: list[list[QAction]] = field(default_factory=list)
    current: str = ""
    _seen: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def poll(self) -> None:
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu):
            self.menus.append([a for a in popup.actions() if not a.isSeparator()])
            popup.close()
            return
        for widget in QApplication.topLevelWidgets():
            if not isinstance(widget, QDialog) or not widget.isVisible() or self._is_protected(widget):
                continue
            self.answer(widget)
            return

    def _is_protected(self, widget: QWidget) -> bool:
        return any(shiboken6.isValid(p) and p is widget for p in self.protected)

    def answer(self, dialog: QDialog) -> None:
        text = dialog.text() if isinstance(dialog, QMessageBox) else ""
        self.opened.append(Opened(type(dialog).__name__, dialog.windowTitle(), text, self.current))
        if isinstance(dialog, QMessageBox):
            if dialog.icon() in (QMessageBox.Icon.Warning, QMessageBox.Icon.Critical):
                informative = dialog.informativeText()
                self.problems.append(f"{self.current}: a warning opened: {text} {informative}".strip())
            for choice in _CANCELS:
                button = dialog.button(choice)
                if button is not None:
                    button.click()
                    return
        dialog.reject()


def label(widget: QAbstractButton | QAction) -> str:
    """What a person would call it: its text, else its accessible name, tooltip or object name."""
    text = widget.text().replace("&", "").strip()
    if not text and isinstance(widget, QWidget):
        text = widget.accessibleName() or widget.toolTip() or widget.objectName()
    elif not text:
        text = widget.toolTip() or widget.objectName()
    return text or type(widget).__name__


def triggers(window: QWidget, extra_actions: Iterable[QAction] = ()) -> list[QAbstractButton | QAction]:
    """The enabled, visible push and tool buttons and actions in ``window`` (a tool button that
    stands for an action is the action: it is triggered once)."""
    found: list[QAbstractButton | QAction] = []
    for button in window.findChildren(QAbstractButton):
        if isinstance(button, QCheckBox | QRadioButton) or not isinstance(button, QPushButton | QToolButton):
            continue
        if isinstance(button, QToolButton) and button.defaultAction() is not None:
            continue
        if button.isEnabled() and button.isVisibleTo(window) and button.window() is window:
            found.append(button)
    actions = [*window.findChildren(QAction), *extra_actions]
    for action in dict.fromkeys(actions):
        if action.isSeparator() or not action.isEnabled() or not action.isVisible() or not action.text():
            continue
        shown_on = [w for w in action.associatedObjects() if isinstance(w, QWidget)]
        if shown_on and not any(w.isVisibleTo(window) or w is window for w in shown_on):
            continue
        found.append(action)
    return found


def key(widget: QAbstractButton | QAction, window: QWidget, among: list[QAbstractButton | QAction]) -> tuple[str, int]:
    """A name that finds the same button again after the window rebuilt it: its label and which
    one of that label it is."""
    name = f"{type(widget).__name__}:{label(widget)}"
    same = [w for w in among if f"{type(w).__name__}:{label(w)}" == name]
    return name, same.index(widget)


def find(
    window: QWidget, wanted: tuple[str, int], extra_actions: Iterable[QAction] = ()
) -> QAbstractButton | QAction | None:
    among = triggers(window, extra_actions)
    same = [w for w in among if f"{type(w).__name__}:{label(w)}" == wanted[0]]
    return same[wanted[1]] if wanted[1] < len(same) else None


def trigger(qtbot, widget: QAbstractButton | QAction) -> None:  # type: ignore[no-untyped-def]
    """A click on a button (with the mouse), ``trigger()`` on an action; a checkable one is put back."""
    from PySide6.QtCore import Qt

    if isinstance(widget, QAction):
        widget.trigger()
        if widget.isCheckable() and shiboken6.isValid(widget):
            widget.trigger()
        return
    checkable = widget.isCheckable()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    if checkable and shiboken6.isValid(widget) and widget.isVisible() and widget.isEnabled():
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@dataclass
class Sweep:
    """Triggers every button and action of windows, one window at a time."""

    qtbot: object
    watcher: Watcher
    settle: Callable[[], None]
    check: Callable[[str], list[str]]  # the invariants: what is wrong after ``what`` was triggered
    counts: dict[str, int] = field(default_factory=dict)
    triggered: list[str] = field(default_factory=list)

    def run(
        self,
        name: str,
        open_window: Callable[[], QWidget],
        skip: Callable[[str], bool] = lambda label: False,
        extra_actions: Callable[[QWidget], Iterable[QAction]] = lambda window: (),
        last: tuple[str, ...] = ("Close", "OK", "Cancel", "Delete", "Remove"),
        before_each: Callable[[QWidget], None] = lambda window: None,
    ) -> None:
        """Open the window, list what can be triggered, then trigger each (opening the window again
        whenever a trigger closed it); labels starting with one of ``last`` go at the end, in that
        order (the ones that close the window, or change what it shows)."""
        window = self._open(open_window)
        listed = triggers(window, extra_actions(window))
        keys = [key(w, window, listed) for w in listed]
        keys.sort(key=lambda k: _rank(k[0].split(":", 1)[1], last))
        done = 0
        for wanted in keys:
            shown = label_of(wanted)
            if skip(shown):
                continue
            if not (shiboken6.isValid(window) and window.isVisible()):
                window = self._open(open_window)
            before_each(window)
            widget = find(window, wanted, extra_actions(window))
            if widget is None:
                continue  # gone with what an earlier trigger changed (a version, a rebuilt list)
            what = f"{name} › {shown}"
            self.watcher.current = what
            trigger(self.qtbot, widget)
            self.settle()
            self.watcher.problems.extend(self.check(what))
            self.triggered.append(what)
            done += 1
        self.counts[name] = self.counts.get(name, 0) + done
        if shiboken6.isValid(window) and window.isVisible() and isinstance(window, QDialog):
            window.reject()
            self.settle()

    def _open(self, open_window: Callable[[], QWidget]) -> QWidget:
        window = open_window()
        self.watcher.protected.append(window)
        self.settle()
        return window


def _rank(shown: str, last: tuple[str, ...]) -> int:
    """0 for most, then the ``last`` ones in their order."""
    return next((n for n, word in enumerate(last, 1) if shown.startswith(word)), 0)


def label_of(wanted: tuple[str, int]) -> str:
    return wanted[0].split(":", 1)[1] + (f" #{wanted[1] + 1}" if wanted[1] else "")


class LogProblems(logging.Handler):
    """Records log lines at ERROR and above (a traceback logged by a worker, a job that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
