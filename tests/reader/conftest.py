"""The real-Caffe venv fixture is shared with the validation tests."""
from tests.validation.conftest import caffe_env  # noqa: F401
