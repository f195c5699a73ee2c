"""The version, in one place: ``tinyad.__version__`` imports it and setuptools reads it for the metadata
(``[tool.setuptools.dynamic]`` in pyproject.toml), statically, without importing tinyad."""

__version__ = "0.1.0"
