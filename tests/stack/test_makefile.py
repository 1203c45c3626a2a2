"""`make run` retrains only when the training inputs change."""
import subprocess

from tests.conftest import MODEL, ROOT


def model_is_up_to_date(*what_if: str) -> bool:
    """`make -q` answers without running anything; -W pretends a file just changed."""
    args = ["make", "-q", str(MODEL.relative_to(ROOT))]
    for path in what_if:
        args += ["-W", path]
    return subprocess.run(args, cwd=ROOT, capture_output=True).returncode == 0


def test_a_trained_model_is_not_trained_again():
    assert model_is_up_to_date()


def test_changing_data_domain_or_config_retrains():
    for changed in ("data/nlu/steps.yml", "data/rules/safety.yml", "domain.yml", "config.yml"):
        assert not model_is_up_to_date(changed), changed


def test_changing_code_or_tests_does_not_retrain():
    for changed in ("actions/steps.py", "components/crisis_patterns.yml", "tests/data/test_stories.yml",
                    "README.md"):
        assert model_is_up_to_date(changed), changed
