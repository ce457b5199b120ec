"""Execute the notebooks and write them as HTML for reading, or strip their outputs.

    python notebooks/render.py                 # every notebook -> notebooks/html/NN_name.html
    python notebooks/render.py 04_optimizers   # only the notebooks whose name starts so
    python notebooks/render.py --strip         # remove outputs in place (before committing)

Rendering needs the `notebooks` extra: pip install -e '.[notebooks]'.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def strip(path: Path) -> bool:
    """Remove outputs and execution counts; True if the file changed."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            cell.outputs, cell.execution_count, changed = [], None, True
        cell.metadata.pop("execution", None)
    if changed:
        nbformat.write(notebook, path)
    return changed


def render(path: Path, out_dir: Path) -> Path:
    """Execute a notebook in a scratch folder and write it as HTML; the .ipynb is untouched."""
    import tempfile

    import nbclient
    import nbformat
    from nbconvert import HTMLExporter
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        nbclient.NotebookClient(notebook, timeout=600,
                                resources={"metadata": {"path": scratch}}).execute()
    html, _ = HTMLExporter().from_notebook_node(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (path.stem + ".html")
    partial = target.with_suffix(".html.partial")      # no half-written page on a crash
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--strip", action="store_true", help="strip outputs in place")
    parser.add_argument("--out", type=Path, default=HERE / "html")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(HERE.glob("*.ipynb"))
             if not args.names or any(p.name.startswith(n) for n in args.names)]
    if not paths:
        print(f"render.py: no notebook matches {args.names}", file=sys.stderr)
        return 2
    for path in paths:
        if args.strip:
            print(f"{path.name}: {'stripped' if strip(path) else 'already clean'}")
        else:
            print(f"{path.name} -> {render(path, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
