"""How a reply was reached, shown under it: the stages of its thinking mode (plan, draft, critique,
votes, the model's own thinking) folded into one line that unfolds, and the reply tinted by the
model's confidence in each token, with the alternatives it weighed on hover."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QLabel, QToolTip, QWidget

from assistant.ui.theme import colors

_STAGE_TEXT_LIMIT = 4000
# Tokens at least this probable are left untinted: the eye should go to the doubtful ones.
CONFIDENT = 0.9


class StagesView(QLabel):
    """ "▸ 3 stages: plan · draft · critique" — a click unfolds each stage with its text, tokens and time."""

    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stagesView")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.stages: list[dict[str, Any]] = []
        self.expanded = False
        self.linkActivated.connect(lambda _: self.set_expanded(not self.expanded))
        self.hide()

    def set_stages(self, stages: list[dict[str, Any]], note: str = "") -> None:
        self.stages = stages
        self.note = note
        self.setVisible(bool(stages))
        self._render()

    def set_expanded(self, expanded: bool) -> None:
        self.expanded = expanded
        self._render()
        self.toggled.emit(expanded)

    def _render(self) -> None:
        if not self.stages:
            return
        names = " · ".join(html.escape(str(s["name"])) for s in self.stages)
        seconds = sum(float(s.get("duration_s") or 0) for s in self.stages)
        arrow = "▾" if self.expanded else "▸"
        head = (
            f"<a href='toggle' style='text-decoration:none'>{arrow} {len(self.stages)} "
            f"stage{'s' if len(self.stages) != 1 else ''}</a> "
            f"<span style='color:#888'>{names} · {seconds:.1f} s</span>"
        )
        if self.note:
            head += f" <span style='color:#b00020'>{html.escape(self.note)}</span>"
        if not self.expanded:
            self.setText(head)
            return
        blocks = [head]
        for stage in self.stages:
            text = html.escape(str(stage.get("text", ""))[:_STAGE_TEXT_LIMIT]).replace("\n", "<br>")
            extra = f" — {html.escape(str(stage['note']))}" if stage.get("note") else ""
            blocks.append(
                f"<p style='margin:4px 0 0 12px'><b>{html.escape(str(stage['name']))}</b> "
                f"<span style='color:#888'>{stage.get('tokens', 0)} tokens · "
                f"{float(stage.get('duration_s') or 0):.1f} s{extra}</span><br>{text or '<i>(empty)</i>'}</p>"
            )
        self.setText("".join(blocks))


def tint(p: float, dark: bool) -> str:
    """A background for a token of probability ``p``: none when confident, warmer the less sure."""
    if p >= CONFIDENT:
        return "transparent"
    alpha = 0.15 + 0.55 * (1 - p / CONFIDENT)
    return f"rgba(255, 120, 0, {alpha:.2f})" if not dark else f"rgba(255, 150, 40, {alpha:.2f})"


def probabilities_html(token_probs: list[dict[str, Any]], dark: bool = False) -> str:
    """The reply token by token, each a link ("p:INDEX") so hovering it can name the alternatives."""
    spans = []
    # Qt's rich text knows no "color: inherit": a link without a colour of its own is drawn in
    # the link colour, or near-black on the dark theme's card.
    ink = colors(dark)["text"]
    for index, entry in enumerate(token_probs):
        text = html.escape(str(entry["token"])).replace("\n", "<br>")
        spans.append(
            f"<a href='p:{index}' style='color:{ink};text-decoration:none;"
            f"background-color:{tint(float(entry['p']), dark)}'>{text}</a>"
        )
    return "<div style='white-space:pre-wrap'>" + "".join(spans) + "</div>"


def alternatives_text(entry: dict[str, Any]) -> str:
    lines = [f"{entry['token']!r}: {100 * float(entry['p']):.1f}%", "Alternatives the model weighed:"]
    lines += [f"  {alt['token']!r}: {100 * float(alt['p']):.1f}%" for alt in entry.get("top", [])]
    return "\n".join(lines)


def show_alternatives(token_probs: list[dict[str, Any]], link: str, widget: QWidget) -> str:
    """Called with the hovered link; shows (and returns) the token's alternatives."""
    if not link.startswith("p:"):
        QToolTip.hideText()
        return ""
    try:
        entry = token_probs[int(link[2:])]
    except (ValueError, IndexError):
        return ""
    text = alternatives_text(entry)
    QToolTip.showText(QCursor.pos() + QPoint(12, 12), text, widget)
    return text
