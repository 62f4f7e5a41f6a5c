"""The data fields of each event type in the editor's forms, read from the one declaration (``events.declaration``).

Title, summary, participants and place are the form's own fields (every
fact has them, and a correction edits them the same way); every other field
a type declares — an agreement's name, category, parties and term, an
exercise's series and domains, a session's number, a plan's date — is built
here from its declaration, so a field declared once appears in the form of
every type that has it, with the declaration's label, help and bounds.
Each field says which types have it: the form shows those of the chosen
type (the others are hidden and disabled, so they send nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from events import dates, declaration
from events.errors import InvalidDate

#: The data fields the form's own inputs edit.
OWN_FIELDS = ("title", "summary", "participants", "place")
PREFIX = "data-"
DIGITS = "0123456789"


@dataclass
class DataField:
    """One declared data field as an input: what it is, which types have it, what was typed and what is wrong."""

    spec: declaration.FormField
    types: tuple[str, ...]
    text: str = ""
    chosen: list[str] = field(default_factory=list)  # a multiselect's choices
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def id(self) -> str:
        return PREFIX + self.spec.name

    def read(self) -> Any:
        """The value for the event's data (None when left empty); a value that cannot be read adds an error."""
        spec = self.spec
        if spec.widget == "multiselect":
            return [c for c in spec.choices if c in self.chosen] or None
        text = self.text.strip()
        if not text:
            return None
        if spec.many:
            return [line.strip() for line in text.splitlines() if line.strip()]
        if spec.widget == "number":
            return self._number(text)
        if spec.widget == "date":
            try:
                return dates.from_human(text)
            except InvalidDate as exc:
                self.errors.append(exc.reason[:1].upper() + exc.reason[1:])
                return None
        return text

    def _number(self, text: str) -> int | None:
        low, high = self.spec.minimum, self.spec.maximum
        if len(text) > 9 or any(c not in DIGITS for c in text) or (low is not None and int(text) < low) \
                or (high is not None and int(text) > high):
            self.errors.append(f"Give a whole number{f' from {low:,} to {high:,}' if low is not None else ''}, "
                               f"in digits (not {text[:20]!r}).")
            return None
        return int(text)

    def show(self, value: Any) -> None:
        """Pre-fill from a value the log holds."""
        if value is None:
            return
        if self.spec.widget == "multiselect":
            self.chosen = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        elif isinstance(value, list):
            self.text = "\n".join(str(v) for v in value)
        else:
            self.text = str(value)


def _declared() -> dict[str, tuple[declaration.FormField, tuple[str, ...]]]:
    """Every data field of a fact type but the form's own, once, with the types that declare it."""
    found: dict[str, tuple[declaration.FormField, list[str]]] = {}
    for name in declaration.TYPES:
        if name in declaration.META_TYPES:
            continue
        for spec in declaration.form_fields(name):
            if spec.name not in OWN_FIELDS:
                found.setdefault(spec.name, (spec, []))[1].append(name)
    return {name: (spec, tuple(types)) for name, (spec, types) in found.items()}


DECLARED = _declared()


class DataFields:
    """The declared fields of a form, in the declaration's order; ``shown`` is the type whose fields are in use."""

    def __init__(self, shown: str | None, *, only_shown: bool = False) -> None:
        self.shown = shown if shown in declaration.TYPES else None
        self.fields = [DataField(spec, types) for spec, types in DECLARED.values()
                       if not only_shown or (self.shown in types)]
        self._values: dict[str, Any] = {}

    def __iter__(self) -> Any:
        return iter(self.fields)

    def of_type(self, type_name: str | None) -> list[DataField]:
        return [f for f in self.fields if type_name in f.types]

    def take(self, form: Mapping[str, Any]) -> None:
        """What was typed, from the posted form, read at once (only the shown type's fields are sent: the others
        are disabled, and ignored here)."""
        for f in self.fields:
            if f.spec.widget == "multiselect":
                f.chosen = form.getlist(f.id) if hasattr(form, "getlist") else list(form.get(f.id) or [])
            else:
                f.text = str(form.get(f.id) or "")
        self._values = {f.name: f.read() for f in self.of_type(self.shown)}

    def fill(self, data: Mapping[str, Any]) -> None:
        for f in self.fields:
            f.show(data.get(f.name))

    def data(self, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The shown type's fields as read by ``take``, laid over ``base``: a field left empty is removed."""
        out = dict(base or {})
        for name, value in self._values.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    @property
    def errors(self) -> bool:
        return any(f.errors for f in self.fields)

    def mark(self, name: str, message: str) -> bool:
        """Put a refusal of the store at the field it names; False when no shown field has that name."""
        for f in self.of_type(self.shown):
            if f.name == name:
                if message not in f.errors:
                    f.errors.append(message)
                return True
        return False


def type_names(fields: Iterable[DataField]) -> dict[str, str]:
    """For the page's script: each field's id and the types that show it."""
    return {f.id: " ".join(f.types) for f in fields}
