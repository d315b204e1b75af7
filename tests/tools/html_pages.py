"""Reading HTML pages in tests: every table as rows of cell texts, and the shapes of inline SVG charts."""

from __future__ import annotations

from html.parser import HTMLParser


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts (thead, tbody and tfoot rows alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(page)
    parser.close()
    return parser.tables


class SvgShapes(HTMLParser):
    """The elements inside each <svg> of a page: per chart, (tag, attributes) in document order, and its texts."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[list[tuple[str, dict[str, str]]]] = []
        self.texts: list[list[str]] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self._depth += 1
            self.charts.append([])
            self.texts.append([])
        elif self._depth:
            self.charts[-1].append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and data.strip():
            self.texts[-1].append(data.strip())


def charts_of(page: str) -> SvgShapes:
    parser = SvgShapes()
    parser.feed(page)
    parser.close()
    return parser
