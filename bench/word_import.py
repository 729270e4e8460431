"""Benchmark reading a .docx into stored text against `pandoc -f docx -t markdown` on the same file.

Run: .venv/bin/python bench/word_import.py [--size-mb 1] [--repeat N]

The document is a generated law of SIZE MB of text (tests/support/lawgen.py) whose chapter,
article, paragraph and point labels all come from Word's automatic numbering, followed by a
control-list table of 300 rows.  Timed in this run, medians of N interleaved rounds:
- ours (read_docx, in process) against pandoc (process start included); target ours/pandoc ≤ 2;
- peak memory of one import: Python's allocations (tracemalloc) and the growth of the resident
  set of a fresh process (which also counts lxml's C allocations), each as a multiple of the
  package's unpacked size; target < 10.
The imported text is checked first: its blocks must be those of the law as lawgen renders it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

# The repository root, for the helpers the benchmarks share with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repo_store.diff import parse_blocks
from repo_store.word.reader import read_docx
from tests.support.docx_builder import Lvl, Numbering, Package, paragraph
from tests.support.lawgen import generate_articles, render_law

_ROWS = 300


def build_law(size_bytes: int) -> tuple[bytes, str]:
    """A numbered law as .docx, and the stored text it must read as."""
    articles = generate_articles(size_bytes, seed=1540)
    numbering = Numbering(
        {
            1: [Lvl("decimal", "Глава %1.")],
            2: [Lvl("decimal", "Статья %1."), Lvl("decimal", "%2."), Lvl("russianLower", "%3)")],
            3: [Lvl("decimal", "%1."), Lvl("decimal", "%1.%2.")],
        },
        {1: (1, {}), 2: (2, {}), 3: (3, {})},
    )
    body = [paragraph("Закон Республики «Об экспортном контроле»", style="Title")]
    for index, article in enumerate(articles):
        if index % 100 == 0:
            body.append(paragraph("Общие положения", style="Heading2", num=(1, 0)))
        body.append(paragraph(article.title, num=(2, 0)))
        body.extend(paragraph(" ".join(words), num=(2, 1)) for words in article.paragraphs)
        body.extend(paragraph(" ".join(words), num=(2, 2)) for words in article.items)
    body.append(control_list())
    expected = (
        render_law(articles)
        + "\n"
        + "\n".join(
            ["| Позиция | Наименование | Код |\n"]
            + [
                f"| 1.{n}. | Товар двойного назначения {n} | 8401 {n:04d} |\n"
                for n in range(1, _ROWS + 1)
            ]
        )
    )
    return Package(body, numbering).build(), expected


def control_list() -> str:
    """A table whose first cells are empty paragraphs Word numbers 1.1., 1.2. …"""
    header = "".join(
        f"<w:tc>{paragraph(text)}</w:tc>" for text in ("Позиция", "Наименование", "Код")
    )
    rows = [f"<w:tr>{header}</w:tr>"]
    for n in range(1, _ROWS + 1):
        cells = [paragraph("", num=(3, 1)), paragraph(f"Товар двойного назначения {n}")]
        cells.append(paragraph(f"8401 {n:04d}"))
        rows.append("<w:tr>" + "".join(f"<w:tc>{cell}</w:tc>" for cell in cells) + "</w:tr>")
    return "<w:tbl>" + "".join(rows) + "</w:tbl>"


def unpacked_size(docx: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return sum(info.file_size for info in archive.infolist())


def resident_growth(path: Path) -> int:
    """Bytes the resident set of a fresh process grows by while importing the file once."""
    # VmHWM, not ru_maxrss: the latter keeps the parent's high-water mark across fork and exec.
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from repo_store.word.reader import read_docx\n"
        "def peak():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(status.split('VmHWM:')[1].split()[0]) * 1024\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "before = peak()\n"
        "read_docx(data)\n"
        "print(peak() - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, check=True, text=True
    )
    return int(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    docx, expected = build_law(int(args.size_mb * 2**20))
    text = read_docx(docx).text
    ours_blocks = [(b.kind, b.text) for b in parse_blocks(text)]
    if ours_blocks != [(b.kind, b.text) for b in parse_blocks(expected)]:
        print("imported text differs from the law as rendered", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "law.docx"
        path.write_bytes(docx)
        ours: list[float] = []
        pandoc: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            read_docx(docx)
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            subprocess.run(
                ["pandoc", "-f", "docx", "-t", "markdown", str(path)],
                capture_output=True,
                check=True,
            )
            pandoc.append(time.perf_counter() - start)
        resident = resident_growth(path)
    tracemalloc.start()
    read_docx(docx)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    unpacked = unpacked_size(docx)

    ratio = statistics.median(ours) / statistics.median(pandoc)
    print(
        f"document: {len(text.encode()) / 2**20:.2f} MB of text, .docx {len(docx) / 2**20:.2f} MB, "
        f"unpacked {unpacked / 2**20:.2f} MB, {len(ours_blocks)} blocks"
    )
    print(f"ours (read_docx):        median {statistics.median(ours) * 1000:8.1f} ms")
    print(f"pandoc -t markdown:      median {statistics.median(pandoc) * 1000:8.1f} ms")
    print(f"ratio ours/pandoc:       {ratio:.2f}  (target ≤ 2)")
    print(f"tracemalloc peak:        {peak / unpacked:.2f} × unpacked  (target < 10)")
    print(f"resident set growth:     {resident / unpacked:.2f} × unpacked  (target < 10)")
    ok = ratio <= 2 and peak < 10 * unpacked and resident < 10 * unpacked
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
