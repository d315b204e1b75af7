"""Error types shared by the munibond library.

`InputError` is raised for bad user input (term sheets, investor CSVs, amounts on the command line). It names
where the problem is (file, 1-based line, field path) so that a caller can fix the input before any
transaction is sent. One error may carry several issues when a whole file was validated at once.
"""

from __future__ import annotations

from dataclasses import dataclass


class MunibondError(Exception):
    """Base class of all munibond errors."""


@dataclass(frozen=True)
class Issue:
    """One problem in an input: where it is and what is wrong."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line is not None else self.file)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class InputError(MunibondError, ValueError):
    """Bad input; `file`, `line` and `field` locate the first issue, `issues` lists all of them."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        issues: tuple[Issue, ...] | list[Issue] | None = None,
    ) -> None:
        first = Issue(message=message, file=file, line=line, field=field)
        self.issues: tuple[Issue, ...] = tuple(issues) if issues else (first,)
        head = self.issues[0]
        self.message = head.message
        self.file = head.file
        self.line = head.line
        self.field = head.field
        super().__init__(str(head))

    @classmethod
    def from_issues(cls, issues: list[Issue] | tuple[Issue, ...]) -> InputError:
        """One error carrying every issue found (the first one locates it)."""
        if not issues:
            raise ValueError("from_issues needs at least one issue")
        head = issues[0]
        return cls(head.message, file=head.file, line=head.line, field=head.field, issues=issues)

    def __str__(self) -> str:
        text = str(self.issues[0])
        if len(self.issues) > 1:
            text += f" (and {len(self.issues) - 1} more)"
        return text


class AmountError(InputError):
    """An amount or rate that cannot be represented exactly where it must be."""
