"""Reading uploads: files, folders, zips and notebooks; hostile input refused in one line naming
the file and the reason, before anything is unpacked; syntax errors reported with their line
while the rest of the file is still analysed."""

import io
import json
import zipfile

import nbformat
import pytest

from project_viva.analysis import analyse
from project_viva.modules import parse_tolerant
from project_viva.sources import InputLimits, ProjectInputError, load_path, load_upload, notebook_code
from tests.project_viva.scripts import script


def zipped(files: dict[str, bytes | str], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zipped_folder_is_read_with_its_own_folder_name_stripped():
    data = zipped(
        {"proj/train.py": "import models\n", "proj/models/__init__.py": "", "proj/configs/a.yaml": "lr: 0.1\n", "proj/README.md": "x"}
    )
    project = load_upload("proj.zip", data)
    assert sorted(project.sources) == ["models/__init__.py", "train.py"]
    assert project.configs == {"configs/a.yaml": {"lr": 0.1}}


def test_a_zip_bomb_is_refused_from_its_directory_in_one_line():
    data = zipped({"bomb.py": "#" * (30 << 20)})  # 30 MB of one byte compresses about 1000:1
    with pytest.raises(ProjectInputError) as error:
        load_upload("bomb.zip", data)
    message = str(error.value)
    assert message.startswith("bomb.zip: refused") and "zip bomb" in message and "\n" not in message


def test_an_upload_over_the_limit_is_refused_before_reading():
    with pytest.raises(ProjectInputError, match=r"^big.py: refused, 50.0 MB is over the 20 MB upload limit$"):
        load_upload("big.py", b"x" * (50 << 20))


def test_a_zip_declaring_too_much_is_refused():
    data = zipped({f"f{i}.py": "x = 1\n" * 2000 for i in range(5)})
    with pytest.raises(ProjectInputError, match="unpacks to"):
        load_upload("many.zip", data, InputLimits(unpacked_mb=0.01))


def test_members_with_dot_dot_or_absolute_paths_are_skipped_and_said():
    data = zipped({"train.py": "x = 1\n", "../escape.py": "y = 2\n", "/etc/abs.py": "z = 3\n"})
    project = load_upload("p.zip", data)
    assert list(project.sources) == ["train.py"]
    assert project.problems == ["p.zip: 2 member(s) with absolute or '..' paths skipped"]


def test_a_notebook_with_broken_json_is_refused_in_one_line():
    with pytest.raises(ProjectInputError) as error:
        load_upload("nb.ipynb", b'{"cells": [ {"cell_type": "code", ')
    assert str(error.value).startswith("nb.ipynb: not a readable notebook (") and "\n" not in str(error.value)


def test_a_notebook_maps_lines_back_to_cells_and_blanks_magics():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell("!pip install x\nimport torch"),
            nbformat.v4.new_code_cell("%%time\nx = 1\ny = 2"),
            nbformat.v4.new_code_cell("%%bash\nls -la"),
        ]
    )
    code, cells = notebook_code(nbformat.writes(notebook), "nb.ipynb")
    lines = code.splitlines()
    assert lines[0] == "pass" and lines[1] == "import torch"
    assert cells[lines.index("y = 2")] == (2, 3)  # cell 2 (counting the markdown cell), its third line
    assert "ls -la" not in code


def test_saved_outputs_are_ignored():
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("stream", text="import os; os.system('boom')\n")]
    code, _ = notebook_code(nbformat.writes(nbformat.v4.new_notebook(cells=[cell])), "nb.ipynb")
    assert "os.system" not in code


def test_a_syntax_error_is_reported_with_its_line_and_the_rest_is_analysed(tmp_path):
    code = script().replace("class Net(nn.Module):", "class Net(nn.Module)")  # a missing colon
    (tmp_path / "train.py").write_text(code)
    analysis = analyse(load_path(tmp_path / "train.py"), measure_model=False)
    line = code.splitlines().index("class Net(nn.Module)") + 1
    assert analysis.problems == [f"train.py:{line}: syntax error (expected ':'); the rest of the file was analysed"]
    assert analysis.facts["optimizer"]["name"] == "SGD" and analysis.facts["epochs"] == 30


def test_tolerant_parsing_keeps_every_statement_that_parses():
    tree, errors = parse_tolerant("a = 1\ndef f(:\n    pass\nb = 2\n")
    assert [type(s).__name__ for s in tree.body] == ["Assign", "Assign"] and errors == [(2, "invalid syntax")]


def test_a_folder_with_no_code_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ProjectInputError, match="no Python file or notebook inside"):
        load_path(tmp_path)


def test_a_broken_config_is_a_problem_line_not_a_failure():
    project = load_upload("p.zip", zipped({"train.py": "x = 1\n", "cfg.json": '{"lr": 0.1,'}))
    assert project.problems and project.problems[0].startswith("cfg.json") and json.dumps(project.configs) == "{}"
