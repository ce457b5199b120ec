"""Every notebook runs top to bottom in a real Jupyter kernel (nbclient + ipykernel), as a
learner's Jupyter would run it; a cell that raises fails the test with the cell's traceback.

The notebooks are committed with their outputs stripped (`test_notebooks_are_committed_stripped`);
`python notebooks/render.py` executes them and writes HTML for reading.
"""
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def _kernel_name() -> str:
    """A kernel spec for this very interpreter (the venv's), so the notebook imports the
    minidl under test and not some other Python's."""
    from ipykernel.kernelspec import install
    prefix = Path(os.environ.get("MINIDL_KERNEL_PREFIX", ROOT / ".pytest_cache" / "kernels"))
    install(user=False, prefix=str(prefix), kernel_name="minidl-test")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(prefix / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")])
    return "minidl-test"


@pytest.fixture(scope="module")
def kernel_name():
    return _kernel_name()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_a_jupyter_kernel(path, kernel_name, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name=kernel_name,
        resources={"metadata": {"path": str(tmp_path)}})     # cells run in a scratch folder
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell raised\n{exc}"[:6000], pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_stripped(path):
    cells = json.loads(path.read_text())["cells"]
    with_output = [i for i, c in enumerate(cells)
                   if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not with_output, (f"{path.name}: cells {with_output} hold outputs; run "
                             f"`python notebooks/render.py --strip` before committing")

def test_render_strip_removes_outputs_and_only_them(tmp_path):
    sys.path.insert(0, str(ROOT / "notebooks"))
    import render
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=3,
                                     outputs=[nbformat.v4.new_output("stream", text="1\n")])
    path = tmp_path / "09_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell]),
                   path)
    assert render.strip(path) is True
    again = nbformat.read(path, as_version=4)
    assert again.cells[1].outputs == [] and again.cells[1].execution_count is None
    assert again.cells[1].source == "print(1)" and again.cells[0].source == "# t"
    assert render.strip(path) is False                   # already clean: file untouched


def test_there_are_the_eight_lessons():
    numbers = sorted(int(p.name[:2]) for p in NOTEBOOKS)
    assert numbers == list(range(1, 9)), [p.name for p in NOTEBOOKS]



if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
